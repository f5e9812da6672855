// Valid form values, shared by the unit tests and the integration tests (both `include!` this
// file, since the unit tests cannot reach a test-support module), so both post the same request.

/// A value the schema accepts for each field a student fills in (selects take their first
/// option), without the photo.
pub fn valid_fields(schema: &form::Schema) -> Vec<(String, String)> {
    schema
        .fields()
        .iter()
        .filter_map(|field| {
            let value = match field.name.as_str() {
                "charte" | "envoi_etablissement" => "on".to_owned(),
                "nom" => "Dupré".to_owned(),
                "prenom" => "Léa".to_owned(),
                "date_naissance" => "2009-03-14".to_owned(),
                "email" => "lea.dupre@example.org".to_owned(),
                "adresse" => "12 rue des Écoles".to_owned(),
                "code_postal" => "63000".to_owned(),
                "commune" => "Clermont-Ferrand".to_owned(),
                "telephone" => "06 12 34 56 78".to_owned(),
                "etablissement" => "Lycée Sidoine Apollinaire".to_owned(),
                _ if !field.options.is_empty() => field.options[0].clone(),
                _ => return None,
            };
            Some((field.name.clone(), value))
        })
        .collect()
}
