//! The Lambda bootstrap: reads the configuration, the form schema and the face detector's model
//! once, builds the S3 client (and the SES one when a sender is configured), sets up JSON logs, then serves requests with
//! `lambda_http::run`: each one goes to [`App::handle`], the request flow inside its CORS headers
//! and its log line. Any missing or wrong setting stops start-up with a message that names it.

use std::convert::Infallible;
use std::process::ExitCode;
use std::sync::Arc;

use handler::mail::Mailer;
use handler::mail::ses::SesMailer;
use handler::{App, Config, S3Store, Store};
use lambda_http::{Request, service_fn};
use time::OffsetDateTime;
use tracing_subscriber::EnvFilter;

/// Log levels when `RUST_LOG` is not set: our request lines, and only warnings from the SDK.
const DEFAULT_LOG_FILTER: &str =
    "info,aws_config=warn,aws_smithy_runtime=warn,aws_sdk_s3=warn,aws_sdk_sesv2=warn";

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    let (app, config) = match start().await {
        Ok(started) => started,
        Err(message) => {
            tracing::error!("start-up failed: {message}");
            return ExitCode::FAILURE;
        }
    };
    match &config.mail {
        Some(mail) => {
            let mailer = SesMailer::from_env(mail.from.clone()).await;
            serve(app.with_mailer(mailer, &mail.function_url)).await
        }
        None => serve(app).await,
    }
}

/// Serves requests until the runtime stops.
async fn serve<S: Store + 'static, M: Mailer + 'static>(app: App<S, M>) -> ExitCode {
    let app = Arc::new(app);
    let service = service_fn(move |request: Request| {
        let app = Arc::clone(&app);
        async move { Ok::<_, Infallible>(app.handle(request, OffsetDateTime::now_utc()).await) }
    });
    match lambda_http::run(service).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("lambda runtime stopped: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Everything that must be right before the first request.
async fn start() -> Result<(App<S3Store>, Config), String> {
    let config = Config::from_env().map_err(|error| error.to_string())?;
    let schema = handler::schema().map_err(|error| format!("embedded `content/form.toml`: {error}"))?;
    let store = config.s3_store().await.map_err(|error| error.to_string())?;
    // Read now rather than by the first photo, which would pay for it inside a student's request.
    handler::photo::face::load_model();
    Ok((App::new(schema, store, &config), config))
}

/// One JSON object per line, as CloudWatch Logs Insights reads them.
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_target(false)
        .with_current_span(false)
        .with_span_list(false)
        .init();
}
