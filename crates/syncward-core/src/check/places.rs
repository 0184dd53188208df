//! US states and ISO 3166-1 countries: the names, codes and common
//! abbreviations that form tools and spreadsheets produce.

/// (code, name, other spellings)
const STATES: &[(&str, &str, &[&str])] = &[
    ("AL", "Alabama", &["Ala"]),
    ("AK", "Alaska", &["Alas"]),
    ("AZ", "Arizona", &["Ariz"]),
    ("AR", "Arkansas", &["Ark"]),
    ("CA", "California", &["Calif", "Cal", "Cali"]),
    ("CO", "Colorado", &["Colo", "Col"]),
    ("CT", "Connecticut", &["Conn"]),
    ("DE", "Delaware", &["Del"]),
    (
        "DC",
        "District of Columbia",
        &["Washington DC", "Washington D.C.", "D.C."],
    ),
    ("FL", "Florida", &["Fla", "Flor"]),
    ("GA", "Georgia", &[]),
    ("HI", "Hawaii", &[]),
    ("ID", "Idaho", &["Ida"]),
    ("IL", "Illinois", &["Ill"]),
    ("IN", "Indiana", &["Ind"]),
    ("IA", "Iowa", &[]),
    ("KS", "Kansas", &["Kans", "Kan"]),
    ("KY", "Kentucky", &["Ken", "Kent"]),
    ("LA", "Louisiana", &[]),
    ("ME", "Maine", &[]),
    ("MD", "Maryland", &[]),
    ("MA", "Massachusetts", &["Mass"]),
    ("MI", "Michigan", &["Mich"]),
    ("MN", "Minnesota", &["Minn"]),
    ("MS", "Mississippi", &["Miss"]),
    ("MO", "Missouri", &[]),
    ("MT", "Montana", &["Mont"]),
    ("NE", "Nebraska", &["Nebr", "Neb"]),
    ("NV", "Nevada", &["Nev"]),
    ("NH", "New Hampshire", &["N.H."]),
    ("NJ", "New Jersey", &["N.J."]),
    ("NM", "New Mexico", &["N.M.", "N. Mex"]),
    ("NY", "New York", &["N.Y."]),
    ("NC", "North Carolina", &["N.C.", "N. Car"]),
    ("ND", "North Dakota", &["N.D.", "N. Dak"]),
    ("OH", "Ohio", &[]),
    ("OK", "Oklahoma", &["Okla"]),
    ("OR", "Oregon", &["Ore", "Oreg"]),
    ("PA", "Pennsylvania", &["Penn", "Penna", "Pa."]),
    ("RI", "Rhode Island", &["R.I."]),
    ("SC", "South Carolina", &["S.C.", "S. Car"]),
    ("SD", "South Dakota", &["S.D.", "S. Dak"]),
    ("TN", "Tennessee", &["Tenn"]),
    ("TX", "Texas", &["Tex"]),
    ("UT", "Utah", &[]),
    ("VT", "Vermont", &[]),
    ("VA", "Virginia", &["Virg"]),
    ("WA", "Washington", &["Wash"]),
    ("WV", "West Virginia", &["W. Va", "W.V."]),
    ("WI", "Wisconsin", &["Wis", "Wisc"]),
    ("WY", "Wyoming", &["Wyo"]),
    ("PR", "Puerto Rico", &[]),
    ("GU", "Guam", &[]),
    (
        "VI",
        "U.S. Virgin Islands",
        &["Virgin Islands", "US Virgin Islands"],
    ),
    ("AS", "American Samoa", &[]),
    ("MP", "Northern Mariana Islands", &[]),
];

const COUNTRIES: &str = "AD Andorra|AE United Arab Emirates;UAE;Emirates|AF Afghanistan|AG Antigua and Barbuda|AI Anguilla|AL Albania|AM Armenia|AO Angola|AQ Antarctica|AR Argentina|AS American Samoa|AT Austria;Österreich|AU Australia|AW Aruba|AX Åland Islands;Aland Islands|AZ Azerbaijan|BA Bosnia and Herzegovina;Bosnia|BB Barbados|BD Bangladesh|BE Belgium;Belgique;België|BF Burkina Faso|BG Bulgaria|BH Bahrain|BI Burundi|BJ Benin|BL Saint Barthélemy|BM Bermuda|BN Brunei;Brunei Darussalam|BO Bolivia|BQ Caribbean Netherlands;Bonaire|BR Brazil;Brasil|BS Bahamas;The Bahamas|BT Bhutan|BV Bouvet Island|BW Botswana|BY Belarus|BZ Belize|CA Canada|CC Cocos Islands|CD Democratic Republic of the Congo;DR Congo;Congo-Kinshasa|CF Central African Republic|CG Republic of the Congo;Congo;Congo-Brazzaville|CH Switzerland;Schweiz;Suisse|CI Côte d'Ivoire;Cote d'Ivoire;Ivory Coast|CK Cook Islands|CL Chile|CM Cameroon|CN China;People's Republic of China;PRC|CO Colombia|CR Costa Rica|CU Cuba|CV Cape Verde;Cabo Verde|CW Curaçao;Curacao|CX Christmas Island|CY Cyprus|CZ Czechia;Czech Republic|DE Germany;Deutschland|DJ Djibouti|DK Denmark;Danmark|DM Dominica|DO Dominican Republic|DZ Algeria|EC Ecuador|EE Estonia|EG Egypt|EH Western Sahara|ER Eritrea|ES Spain;España;Espana|ET Ethiopia|FI Finland;Suomi|FJ Fiji|FK Falkland Islands|FM Micronesia|FO Faroe Islands|FR France|GA Gabon|GB United Kingdom;UK;U.K.;Great Britain;Britain;England;Scotland;Wales;Northern Ireland|GD Grenada|GE Georgia (country)|GF French Guiana|GG Guernsey|GH Ghana|GI Gibraltar|GL Greenland|GM Gambia;The Gambia|GN Guinea|GP Guadeloupe|GQ Equatorial Guinea|GR Greece|GS South Georgia|GT Guatemala|GU Guam|GW Guinea-Bissau|GY Guyana|HK Hong Kong|HM Heard Island|HN Honduras|HR Croatia;Hrvatska|HT Haiti|HU Hungary|ID Indonesia|IE Ireland;Éire;Republic of Ireland|IL Israel|IM Isle of Man|IN India|IO British Indian Ocean Territory|IQ Iraq|IR Iran|IS Iceland|IT Italy;Italia|JE Jersey|JM Jamaica|JO Jordan|JP Japan|KE Kenya|KG Kyrgyzstan|KH Cambodia|KI Kiribati|KM Comoros|KN Saint Kitts and Nevis|KP North Korea|KR South Korea;Korea;Republic of Korea|KW Kuwait|KY Cayman Islands|KZ Kazakhstan|LA Laos|LB Lebanon|LC Saint Lucia|LI Liechtenstein|LK Sri Lanka|LR Liberia|LS Lesotho|LT Lithuania|LU Luxembourg|LV Latvia|LY Libya|MA Morocco|MC Monaco|MD Moldova|ME Montenegro|MF Saint Martin|MG Madagascar|MH Marshall Islands|MK North Macedonia;Macedonia|ML Mali|MM Myanmar;Burma|MN Mongolia|MO Macao;Macau|MP Northern Mariana Islands|MQ Martinique|MR Mauritania|MS Montserrat|MT Malta|MU Mauritius|MV Maldives|MW Malawi|MX Mexico;México|MY Malaysia|MZ Mozambique|NA Namibia|NC New Caledonia|NE Niger|NF Norfolk Island|NG Nigeria|NI Nicaragua|NL Netherlands;The Netherlands;Holland;Nederland|NO Norway;Norge|NP Nepal|NR Nauru|NU Niue|NZ New Zealand|OM Oman|PA Panama|PE Peru|PF French Polynesia|PG Papua New Guinea|PH Philippines|PK Pakistan|PL Poland;Polska|PM Saint Pierre and Miquelon|PN Pitcairn|PR Puerto Rico|PS Palestine|PT Portugal|PW Palau|PY Paraguay|QA Qatar|RE Réunion;Reunion|RO Romania|RS Serbia|RU Russia;Russian Federation|RW Rwanda|SA Saudi Arabia|SB Solomon Islands|SC Seychelles|SD Sudan|SE Sweden;Sverige|SG Singapore|SH Saint Helena|SI Slovenia|SJ Svalbard and Jan Mayen|SK Slovakia|SL Sierra Leone|SM San Marino|SN Senegal|SO Somalia|SR Suriname|SS South Sudan|ST São Tomé and Príncipe;Sao Tome and Principe|SV El Salvador|SX Sint Maarten|SY Syria|SZ Eswatini;Swaziland|TC Turks and Caicos Islands|TD Chad|TF French Southern Territories|TG Togo|TH Thailand|TJ Tajikistan|TK Tokelau|TL Timor-Leste;East Timor|TM Turkmenistan|TN Tunisia|TO Tonga|TR Turkey;Türkiye;Turkiye|TT Trinidad and Tobago|TV Tuvalu|TW Taiwan|TZ Tanzania|UA Ukraine|UG Uganda|UM United States Minor Outlying Islands|US United States;United States of America;USA;U.S.A.;U.S.;America|UY Uruguay|UZ Uzbekistan|VA Vatican City;Holy See|VC Saint Vincent and the Grenadines|VE Venezuela|VG British Virgin Islands|VI U.S. Virgin Islands|VN Vietnam;Viet Nam|VU Vanuatu|WF Wallis and Futuna|WS Samoa|YE Yemen|YT Mayotte|ZA South Africa|ZM Zambia|ZW Zimbabwe";

/// Compares names loosely: case, dots, and runs of spaces do not matter.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.trim().chars() {
        if c == '.' || c == ',' {
            continue;
        }
        if c.is_whitespace() || c == '-' {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

type Table = std::collections::HashMap<String, &'static str>;

fn state_table() -> &'static Table {
    static T: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut t = Table::new();
        for (code, name, others) in STATES {
            t.insert(fold(code), *code);
            t.insert(fold(name), *code);
            for o in *others {
                t.insert(fold(o), *code);
            }
        }
        t
    })
}

fn country_table() -> &'static Table {
    static T: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut t = Table::new();
        for entry in COUNTRIES.split('|') {
            let (code, names) = entry.split_at(2);
            t.insert(fold(code), code);
            for n in names.trim().split(';') {
                t.entry(fold(n)).or_insert(code);
            }
        }
        t
    })
}

/// A US state (or territory) name, abbreviation or code -> its two-letter code.
pub fn us_state_code(value: &str) -> Option<&'static str> {
    if value.len() == 2 && is_us_state_code(value) {
        return STATES
            .iter()
            .find(|(c, _, _)| *c == value)
            .map(|(c, _, _)| *c);
    }
    state_table().get(&fold(value)).copied()
}

pub fn is_us_state_code(value: &str) -> bool {
    value.len() == 2 && STATES.iter().any(|(code, _, _)| *code == value)
}

/// A country name or code -> its ISO 3166-1 alpha-2 code.
pub fn country_code(value: &str) -> Option<&'static str> {
    let v = fold(value);
    if v.is_empty() {
        return None;
    }
    if let Some(code) = country_table().get(&v) {
        return Some(code);
    }
    // Three-letter codes seen in exports.
    Some(match v.as_str() {
        "deu" => "DE",
        "gbr" => "GB",
        "fra" => "FR",
        "can" => "CA",
        "aus" => "AU",
        "esp" => "ES",
        "ita" => "IT",
        "nld" => "NL",
        "che" => "CH",
        "aut" => "AT",
        "irl" => "IE",
        "ind" => "IN",
        "mex" => "MX",
        "bra" => "BR",
        "jpn" => "JP",
        "chn" => "CN",
        _ => return None,
    })
}

pub fn is_country_code(value: &str) -> bool {
    value.len() == 2
        && value.bytes().all(|b| b.is_ascii_uppercase())
        && country_table()
            .get(&value.to_ascii_lowercase())
            .is_some_and(|c| *c == value)
}

/// The international calling code of a country, for E.164 phone numbers.
pub fn calling_code(country: &str) -> Option<&'static str> {
    Some(match country {
        "US" | "CA" | "PR" => "1",
        "GB" => "44",
        "DE" => "49",
        "FR" => "33",
        "ES" => "34",
        "IT" => "39",
        "NL" => "31",
        "BE" => "32",
        "CH" => "41",
        "AT" => "43",
        "IE" => "353",
        "AU" => "61",
        "NZ" => "64",
        "IN" => "91",
        "MX" => "52",
        "BR" => "55",
        "JP" => "81",
        "SE" => "46",
        "NO" => "47",
        "DK" => "45",
        "FI" => "358",
        "PL" => "48",
        "PT" => "351",
        "ZA" => "27",
        "SG" => "65",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_countries() {
        assert_eq!(us_state_code("California"), Some("CA"));
        assert_eq!(us_state_code(" calif. "), Some("CA"));
        assert_eq!(us_state_code("N.Y."), Some("NY"));
        assert_eq!(us_state_code("new  york"), Some("NY"));
        assert_eq!(us_state_code("tx"), Some("TX"));
        assert_eq!(us_state_code("Bavaria"), None);
        assert_eq!(country_code("Deutschland"), Some("DE"));
        assert_eq!(country_code("U.S.A."), Some("US"));
        assert_eq!(country_code("united kingdom"), Some("GB"));
        assert_eq!(country_code("Côte d'Ivoire"), Some("CI"));
        assert_eq!(country_code("de"), Some("DE"));
        assert_eq!(country_code("Atlantis"), None);
        assert!(is_country_code("FR") && !is_country_code("XX"));
    }
}
