//! The hidden `submission_id` the page generates once per form (a UUID): sending the same form
//! twice (double click, refresh, retry) carries the same id, which lets the handler recognise it.

/// Shortest accepted id: a random id shorter than this could collide between students.
const MIN_LEN: usize = 8;
/// Longest accepted id: room for a UUID and then some, never an unbounded key.
const MAX_LEN: usize = 64;

/// A submission id as the page sent it: 8 to 64 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubmissionId(String);

/// Why a `submission_id` was refused. The message is for developers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a submission id has {MIN_LEN} to {MAX_LEN} characters among `A-Z a-z 0-9 - _`")]
pub struct SubmissionIdError;

impl SubmissionId {
    /// Reads an id; case is kept (the page's ids are compared exactly).
    pub fn parse(s: &str) -> Result<SubmissionId, SubmissionIdError> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        if (MIN_LEN..=MAX_LEN).contains(&s.len()) && s.bytes().all(allowed) {
            Ok(SubmissionId(s.to_owned()))
        } else {
            Err(SubmissionIdError)
        }
    }

    /// The id as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Ids of the allowed shape are accepted unchanged, others refused.
    #[test]
    fn parse_checks_length_and_characters() {
        let cases = [
            ("0b8e6a52-3f1c-4d0e-9a57-2f9c1d7e4b60", true),
            ("abcdEFGH", true),
            ("a_b-c_d-", true),
            (&"x".repeat(64), true),
            ("abcdEFG", false),
            (&"x".repeat(65), false),
            ("", false),
            ("abcd efgh", false),
            ("abcd/efgh", false),
            ("abcdéfgh", false),
            ("../../etc", false),
        ];
        for (input, ok) in cases {
            let parsed = SubmissionId::parse(input);
            assert_eq!(parsed.is_ok(), ok, "input `{input}`");
            if let Ok(id) = parsed {
                assert_eq!(id.as_str(), input);
            }
        }
    }
}
