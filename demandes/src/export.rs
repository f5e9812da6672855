//! The CSV of the « document à rendre »: one line per request, which French-locale Excel and
//! LibreOffice open as they are. That means UTF-8 with a byte-order mark (without it Excel reads
//! the accents as Windows-1252), `;` between cells (a French Excel takes `,` for the decimal
//! separator), French headers, and every cell that a spreadsheet would take for a formula
//! neutralised (OWASP's CSV injection advice: a leading `=`, `+`, `-`, `@`, tab or carriage return
//! gets a `'` before it). The quoting is the `csv` crate's.

use std::io::Write;

use crate::day_fr;
use crate::inbox::Entry;

/// The columns, in order: what the school copies onto, or checks against, the « document à
/// rendre », and where each request stands.
pub const HEADERS: [&str; 11] = [
    "Dossier",
    "Nom",
    "Prénom",
    "Date de naissance",
    "Établissement",
    "Filière",
    "Envoi de la carte",
    "Date de la demande",
    "Compte activé",
    "Statut",
    "Duplicata",
];

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes `entries` as the CSV to `out`.
pub fn write(entries: &[Entry], out: impl Write) -> csv::Result<()> {
    let mut out = out;
    out.write_all(BOM)?;
    let mut writer = csv::WriterBuilder::new().delimiter(b';').from_writer(out);
    writer.write_record(HEADERS)?;
    for entry in entries {
        writer.write_record(row(entry).iter().map(|cell| neutralised(cell)))?;
    }
    writer.flush()?;
    Ok(())
}

/// One request's cells, as text.
fn row(entry: &Entry) -> [String; 11] {
    let fields = &entry.request.fields;
    let born =
        time::Date::parse(&fields.date_naissance, time::macros::format_description!("[year]-[month]-[day]"))
            .map(day_fr)
            .unwrap_or_else(|_| fields.date_naissance.clone());
    let duplicate = entry.duplicate.as_ref().map_or_else(String::new, |duplicate| {
        format!("{} le {}", duplicate.motif.label_fr(), day_fr(duplicate.requested_at.date()))
    });
    [
        entry.dossier.to_string(),
        fields.nom.clone(),
        fields.prenom.clone(),
        born,
        fields.etablissement.clone(),
        fields.filiere.clone(),
        if entry.envoi_etablissement { "établissement" } else { "domicile" }.to_owned(),
        day_fr(entry.request.received_at.date()),
        entry.activated_at.map_or_else(|| "non".to_owned(), |at| format!("oui, le {}", day_fr(at.date()))),
        entry.status_fr().to_owned(),
        duplicate,
    ]
}

/// `cell`, with a `'` before it when a spreadsheet would read it as a formula.
pub fn neutralised(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Formula starters get a quote; anything else, accents and inner signs included, is as it is.
    #[test]
    fn formulas_are_neutralised() {
        let cases = [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+33 6 12", "'+33 6 12"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Dupré-Martin", "Dupré-Martin"),
            ("a=b", "a=b"),
            ("", ""),
        ];
        for (cell, expected) in cases {
            assert_eq!(neutralised(cell), expected, "{cell:?}");
        }
    }
}
