//! The deployment template (`deploy/template.yaml`) against the function it deploys: the timeout
//! its deadlines need, exactly the settings it reads, and no permission beyond what it uses. The
//! template is written in CloudFormation's long form (`Ref`, `Fn::Sub`, …), so a plain YAML parser
//! reads it; `deploy/lint` checks the rest (SAM's translation, then cfn-lint).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::time::Duration;

use handler::app::{ACCOUNT_DEADLINE, FUNCTION_TIMEOUT, STORE_DEADLINE};
use handler::config::{
    ALLOWED_ORIGIN, BUCKET_NAME, DOSSIER_SECRET, ETABLISSEMENT, FUNCTION_URL, MAIL_FROM, TOKEN_SECRET,
};
use handler::{Config, ConfigError, ObjectKey};
use yaml_rust2::{Yaml, YamlLoader};

const TEMPLATE: &str = include_str!("../../deploy/template.yaml");
/// Lambda's CPU share: one vCPU at 1,769 MB, in proportion below (AWS Lambda developer guide,
/// "Configure Lambda function memory"; BENCHMARKS.md, "Memory size").
const MB_PER_VCPU: u64 = 1769;
/// The slack `handler::app` keeps above the photo's CPU bound and both deadlines.
const SLACK: Duration = Duration::from_secs(5);

fn template() -> Yaml {
    let mut documents = YamlLoader::load_from_str(TEMPLATE).expect("deploy/template.yaml is YAML");
    assert_eq!(documents.len(), 1, "one YAML document");
    documents.remove(0)
}

/// The one `AWS::Serverless::Function` of the template, with its logical id.
fn function(template: &Yaml) -> (String, &Yaml) {
    let resources = template["Resources"].as_hash().expect("a Resources mapping");
    let functions: Vec<_> = resources
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some("AWS::Serverless::Function"))
        .collect();
    assert_eq!(functions.len(), 1, "one function in the template");
    let (id, resource) = functions[0];
    (id.as_str().unwrap().to_owned(), &resource["Properties"])
}

/// A compact, JSON-like rendering for comparisons and messages.
fn show(yaml: &Yaml) -> String {
    match yaml {
        Yaml::String(s) | Yaml::Real(s) => format!("{s:?}"),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Array(items) => format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", ")),
        Yaml::Hash(map) => format!(
            "{{{}}}",
            map.iter().map(|(k, v)| format!("{}: {}", show(k), show(v))).collect::<Vec<_>>().join(", ")
        ),
        Yaml::Null => "null".into(),
        Yaml::Alias(_) | Yaml::BadValue => "<missing>".into(),
    }
}

/// [`show`] of a YAML snippet, to compare a template's value with the one expected.
fn shown(snippet: &str) -> String {
    show(&YamlLoader::load_from_str(snippet).expect("a YAML snippet")[0])
}

/// A string or a list of strings (an IAM statement's `Action`, a policy's `Resource`).
fn one_or_many(yaml: &Yaml) -> Vec<&Yaml> {
    match yaml {
        Yaml::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn seconds(yaml: &Yaml, what: &str) -> Duration {
    let value =
        yaml.as_i64().unwrap_or_else(|| panic!("{what} is a number of seconds, found {}", show(yaml)));
    Duration::from_secs(u64::try_from(value).expect("a positive number"))
}

// (a) The function's timeout is the one the code budgets for, and exceeds the worst case of the
// photo's CPU bound, the store's deadline (S3's timeouts and retries inside it) and the e-mail's.
#[test]
fn timeout_holds_the_functions_worst_case() {
    let template = template();
    let (_, function) = function(&template);
    let timeout = seconds(&function["Timeout"], "Timeout");
    assert_eq!(timeout, FUNCTION_TIMEOUT, "Timeout must be handler::app::FUNCTION_TIMEOUT");
    let worst = handler::photo::CPU_BOUND + STORE_DEADLINE + ACCOUNT_DEADLINE;
    assert!(timeout > worst, "Timeout {timeout:?} must exceed photo + store + e-mail, {worst:?}");
    // Each S3 operation ends within its own timeout, retries included, well inside the store's.
    assert!(handler::s3::OPERATION_TIMEOUT <= STORE_DEADLINE && STORE_DEADLINE < timeout);
    assert!(timeout <= Duration::from_secs(900), "Lambda's longest timeout is 900 s");
}

// (a) At the template's memory Lambda gives a share of one vCPU, which stretches the photo's CPU
// bound; stretched, it still leaves the deadlines and the slack inside the timeout.
#[test]
fn memory_gives_the_photo_enough_cpu() {
    let template = template();
    let (_, function) = function(&template);
    let memory = function["MemorySize"].as_i64().expect("MemorySize in MB");
    let memory = u64::try_from(memory).expect("a positive MemorySize");
    assert!((128..=10_240).contains(&memory), "Lambda's range, found {memory} MB");
    let share = (memory as f64 / MB_PER_VCPU as f64).min(1.0);
    let photo = handler::photo::CPU_BOUND.div_f64(share);
    let needed = photo + STORE_DEADLINE + ACCOUNT_DEADLINE + SLACK;
    assert!(
        needed <= FUNCTION_TIMEOUT,
        "at {memory} MB the photo's {:?} of CPU take {photo:?}: {needed:?} exceeds the timeout {FUNCTION_TIMEOUT:?}",
        handler::photo::CPU_BOUND
    );
}

// (b) The template sets exactly the environment variables the function reads: every name
// `Config::from_lookup` asks for with e-mails on (FUNCTION_URL is read only then), and RUST_LOG.
#[test]
fn environment_is_exactly_what_the_function_reads() {
    let template = template();
    let (_, function) = function(&template);
    let variables = function["Environment"]["Variables"].as_hash().expect("Environment.Variables");
    let in_template: BTreeSet<String> = variables.keys().map(|k| k.as_str().unwrap().to_owned()).collect();

    // Valid values for the names this test knows; an unknown name gets none, so a setting added
    // to the function fails here by name until the template (and this list) set it.
    let values = [
        (BUCKET_NAME, "pass-region-demandes"),
        (ALLOWED_ORIGIN, "https://lycee.example.fr,null"),
        (DOSSIER_SECRET, "0123456789abcdef0123456789abcdef"),
        (ETABLISSEMENT, "Lycée Exemple"),
        (TOKEN_SECRET, "fedcba9876543210fedcba9876543210"),
        (MAIL_FROM, "passregion@lycee.example.fr"),
        (FUNCTION_URL, "https://abc.lambda-url.eu-west-3.on.aws/"),
    ];
    let asked = RefCell::new(BTreeSet::new());
    let result = Config::from_lookup(|name| {
        asked.borrow_mut().insert(name.to_owned());
        values.iter().find(|(key, _)| *key == name).map(|(_, value)| OsString::from(value))
    });
    match result {
        Ok(config) => assert!(config.mail.is_some(), "the lookup should have turned e-mails on"),
        Err(ConfigError::Missing(name)) => {
            panic!("the function reads `{name}`, which neither the template nor this test sets")
        }
        Err(other) => panic!("the test's values are refused: {other}"),
    }
    let mut read = asked.into_inner();
    // main.rs: `EnvFilter::try_from_default_env()`, the log filter.
    read.insert(tracing_subscriber::EnvFilter::DEFAULT_ENV.to_owned());

    assert_eq!(in_template, read, "template's variables (left) against the function's (right)");
    for name in &in_template {
        assert!(!name.starts_with("AWS_"), "{name}: Lambda sets the AWS_ variables itself");
    }
    assert_eq!(show(&variables[&Yaml::String(BUCKET_NAME.into())]), shown("Ref: RequestsBucket"));
}

// (b) Each secret comes from a NoEcho parameter with no default, whose MinLength is at least the
// bytes the function requires (a character is at least a byte).
#[test]
fn secrets_are_hidden_parameters_without_defaults() {
    let template = template();
    let (_, function) = function(&template);
    let variables = &function["Environment"]["Variables"];
    let secrets = [
        (DOSSIER_SECRET, handler::idempotency::MIN_SECRET_BYTES),
        (TOKEN_SECRET, handler::account::token::MIN_TOKEN_SECRET_BYTES),
    ];
    for (variable, min_bytes) in secrets {
        let parameter = variables[variable]["Ref"].as_str().unwrap_or_else(|| {
            panic!("{variable} must be a parameter's Ref, found {}", show(&variables[variable]))
        });
        let declared = &template["Parameters"][parameter];
        assert_eq!(declared["NoEcho"].as_bool(), Some(true), "{parameter} must be NoEcho");
        assert!(declared["Default"].is_badvalue(), "{parameter} must have no default value");
        let min = declared["MinLength"].as_i64().unwrap_or(0);
        assert!(min >= min_bytes as i64, "{parameter}: MinLength {min} < the function's {min_bytes} bytes");
    }
}

// (c) The function's role grants put and get under the requests' prefix, the list that makes a
// missing key a 404 (see the template), and sending from the school's identity only when e-mails
// are on; nothing else.
#[test]
fn function_permissions_are_the_least_it_needs() {
    let template = template();
    let (_, function) = function(&template);
    let mut granted = BTreeSet::new();
    for policy in function["Policies"].as_vec().expect("Policies: a list of policy documents") {
        let (condition, document) = match &policy["Fn::If"] {
            Yaml::Array(branches) => {
                assert_eq!(branches.len(), 3, "Fn::If: [condition, policy, AWS::NoValue]");
                assert_eq!(branches[2]["Ref"].as_str(), Some("AWS::NoValue"), "else nothing");
                (branches[0].as_str().map(str::to_owned), &branches[1])
            }
            _ => (None, policy),
        };
        let statements = document["Statement"].as_vec().unwrap_or_else(|| {
            panic!("only inline statements (no managed policy, no SAM policy template): {}", show(policy))
        });
        for statement in statements {
            assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{}", show(statement));
            for key in ["NotAction", "NotResource", "Condition"] {
                assert!(statement[key].is_badvalue(), "no {key}: {}", show(statement));
            }
            for action in one_or_many(&statement["Action"]) {
                for resource in one_or_many(&statement["Resource"]) {
                    let action = action.as_str().expect("an action name").to_owned();
                    granted.insert((action, show(resource), condition.clone()));
                }
            }
        }
    }

    // The prefix the code writes under, from a key it makes (`demandes/<dossier>/photo.jpg`).
    let dossier = form::Dossier::from_seed(&[7; 32]);
    let key = ObjectKey::photo(&dossier);
    let prefix = key.as_str().split_once(dossier.compact()).expect("keys name the dossier").0;
    assert_eq!(prefix, "demandes/", "the layout the bucket's rules and the staff policy name");
    let objects = shown(&format!("Fn::Sub: \"${{RequestsBucket.Arn}}/{prefix}*\""));
    let bucket = shown("Fn::GetAtt: RequestsBucket.Arn");
    let identity = shown(
        "Fn::Sub: \"arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailIdentity}\"",
    );
    let mail = Some("SendsMail".to_owned());
    let expected: BTreeSet<_> = [
        ("s3:PutObject", objects.clone(), None),
        ("s3:GetObject", objects, None),
        ("s3:ListBucket", bucket, None),
        ("ses:SendEmail", identity, mail.clone()),
    ]
    .into_iter()
    .map(|(action, resource, condition)| (action.to_owned(), resource, condition))
    .collect();
    assert_eq!(granted, expected, "granted (left) against needed (right)");

    // No sender, no permission: the grant and MAIL_FROM hang on the same condition, which
    // requires MailFrom.
    let mail_from = &function["Environment"]["Variables"][MAIL_FROM]["Fn::If"][0];
    assert_eq!(mail_from.as_str(), mail.as_deref(), "MAIL_FROM is set under the SES grant's condition");
    let sends_mail = show(&template["Conditions"]["SendsMail"]);
    assert!(sends_mail.contains("\"Condition\": \"HasMailFrom\""), "{sends_mail}");
    assert_eq!(
        show(&template["Conditions"]["HasMailFrom"]),
        r#"{"Fn::Not": [{"Fn::Equals": [{"Ref": "MailFrom"}, ""]}]}"#
    );
}

// (c) The bucket refuses the function's role any put without `If-None-Match`, so that "never
// overwrite" holds even if the code changed.
#[test]
fn bucket_refuses_the_function_unconditional_puts() {
    let template = template();
    let (id, _) = function(&template);
    let statements =
        template["Resources"]["RequestsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"].as_vec();
    let role = format!("{{\"Fn::GetAtt\": \"{id}Role.Arn\"}}");
    let denies = statements.expect("a bucket policy").iter().any(|statement| {
        statement["Effect"].as_str() == Some("Deny")
            && show(&statement["Principal"]["AWS"]) == role
            && one_or_many(&statement["Action"]).iter().any(|a| a.as_str() == Some("s3:PutObject"))
            && statement["Condition"]["Null"]["s3:if-none-match"].as_str() == Some("true")
    });
    assert!(denies, "RequestsBucketPolicy must deny {role} s3:PutObject without If-None-Match");
}
