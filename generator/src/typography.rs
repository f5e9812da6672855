//! French typography for running text: narrow no-break spaces before `; : ! ?` and inside « »,
//! typographic apostrophes. Only ever applied to text nodes, never to code, URLs or attributes.

/// U+202F NARROW NO-BREAK SPACE, what French typesetting puts before high punctuation.
pub const NNBSP: char = '\u{202F}';

/// Applies French spacing and apostrophes to a run of plain text.
pub fn french(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // A space (breaking or not) before high punctuation becomes a narrow no-break space,
            // so the sign never starts a line. Text without the space is left alone: a colon
            // glued to a word is often a time or a reference, not a sentence.
            ' ' | '\u{00A0}' if matches!(chars.peek(), Some(';' | ':' | '!' | '?' | '»')) => {
                out.push(NNBSP);
            }
            '«' => {
                out.push('«');
                while chars.next_if(|&n| n == ' ' || n == '\u{00A0}' || n == NNBSP).is_some() {}
                out.push(NNBSP);
            }
            '»' => {
                if !out.ends_with(NNBSP) {
                    out.push(NNBSP);
                }
                out.push('»');
            }
            '\'' => out.push('’'),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each rule, and the cases that must stay untouched.
    #[test]
    fn applies_french_rules() {
        let n = NNBSP;
        let cases = [
            ("Attention !", format!("Attention{n}!")),
            ("Prêt ? Oui ; enfin : non", format!("Prêt{n}? Oui{n}; enfin{n}: non")),
            ("« Appliquer »", format!("«{n}Appliquer{n}»")),
            ("«Appliquer»", format!("«{n}Appliquer{n}»")),
            ("«\u{00A0}Appliquer\u{00A0}»", format!("«{n}Appliquer{n}»")),
            ("l'établissement", "l’établissement".to_owned()),
            ("10:30 et https://a.fr/?x=1", "10:30 et https://a.fr/?x=1".to_owned()),
            ("", String::new()),
        ];
        for (input, expected) in cases {
            assert_eq!(french(input), expected, "{input:?}");
        }
    }

    // Applying the rules twice changes nothing more.
    #[test]
    fn is_idempotent() {
        let once = french("« Oui » : l'élève ! Et ?");
        assert_eq!(french(&once), once);
    }
}
