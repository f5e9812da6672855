//! The photos' file names: `<DOSSIER>_<Nom>_<Prénom>.jpg`. A name was checked by the form's rules
//! (letters, spaces, hyphens, apostrophes), but a file name is built from what a student typed, so
//! it is made again from letters and digits only: every other character becomes `-`, never a
//! path separator, a dot or a control.

use form::Dossier;

/// The file name of `dossier`'s photo, `suffix` (e.g. `duplicata`) after the names when given.
pub fn photo_file(dossier: &Dossier, nom: &str, prenom: &str, suffix: Option<&str>) -> String {
    let mut name = format!("{}_{}_{}", dossier.compact(), part(nom), part(prenom));
    if let Some(suffix) = suffix {
        name.push('_');
        name.push_str(suffix);
    }
    name.push_str(".jpg");
    name
}

/// Letters and digits kept, runs of anything else one `-`, none at the ends; at most 40
/// characters, so that a name stays readable in a file list.
fn part(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed: String = out.trim_end_matches('-').chars().take(40).collect();
    trimmed.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Names keep their letters, accents included; anything a path could hold becomes `-`.
    #[test]
    fn file_names() {
        let dossier = Dossier::from_seed(&[5; 32]);
        let compact = dossier.compact().to_owned();
        let cases = [
            ("Dupré", "Léa", None, format!("{compact}_Dupré_Léa.jpg")),
            ("N’Diaye Ba", "Jean-Luc", None, format!("{compact}_N-Diaye-Ba_Jean-Luc.jpg")),
            ("../../etc", "passwd", None, format!("{compact}_etc_passwd.jpg")),
            ("a/b\\c", "x\u{0}y", Some("duplicata"), format!("{compact}_a-b-c_x-y_duplicata.jpg")),
        ];
        for (nom, prenom, suffix, expected) in cases {
            assert_eq!(photo_file(&dossier, nom, prenom, suffix), expected, "{nom:?}");
        }
        let long = "A".repeat(100);
        assert_eq!(photo_file(&dossier, &long, "B", None).len(), compact.len() + 1 + 40 + 1 + 1 + 4);
    }
}
