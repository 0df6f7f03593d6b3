//! Key checks for config tables: unknown keys with a "did you mean" suggestion (edit distance), and
//! values against their documented [`Range`].

use super::{Range, Setting};
use crate::detect::REGISTRY;

/// Levenshtein edit distance between two strings (by characters).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate within a distance of max(2, len/3), if any.
pub fn suggest<'a>(key: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (key.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(key, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn unknown(path: &str, key: &str, known: &[&str]) -> String {
    let full = if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    };
    match suggest(key, known.iter().copied()) {
        Some(s) => format!(
            "unknown key '{full}'; did you mean '{s}'? Known keys: {}",
            known.join(", ")
        ),
        None => format!("unknown key '{full}'. Known keys: {}", known.join(", ")),
    }
}

/// Checks the top-level tables and the detector names.
pub fn check_top(table: &toml::value::Table) -> Result<(), String> {
    const TOP: [&str; 3] = ["analysis", "baseline", "detectors"];
    for (k, v) in table {
        if !TOP.contains(&k.as_str()) {
            return Err(unknown("", k, &TOP));
        }
        if !v.is_table() {
            return Err(format!("'{k}' must be a table ([{k}])"));
        }
    }
    let names: Vec<&str> = REGISTRY.iter().map(|d| d.name()).collect();
    if let Some(d) = table.get("detectors").and_then(|v| v.as_table()) {
        for (k, v) in d {
            if !names.contains(&k.as_str()) {
                return Err(unknown("detectors", k, &names));
            }
            if !v.is_table() {
                return Err(format!("'detectors.{k}' must be a table ([detectors.{k}])"));
            }
        }
    }
    Ok(())
}

/// Checks every key of a section against its settings: known, right type, within range.
pub fn check_section(
    path: &str,
    section: &toml::Value,
    settings: &[Setting],
) -> Result<(), String> {
    let Some(t) = section.as_table() else {
        return Err(format!("'{path}' must be a table"));
    };
    let known: Vec<&str> = settings.iter().map(|s| s.key).collect();
    for (k, v) in t {
        let s = settings
            .iter()
            .find(|s| s.key == k)
            .ok_or_else(|| unknown(path, k, &known))?;
        check_value(v, s.range).map_err(|why| format!("{path}.{k} = {v} {why}"))?;
    }
    Ok(())
}

/// Checks one value against its range; the error completes "KEY = VALUE ...".
pub fn check_value(v: &toml::Value, range: Range) -> Result<(), String> {
    let out = |ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(format!("is out of range: must be {range}"))
        }
    };
    match (range, v) {
        (Range::Float(a, b), toml::Value::Float(x)) => out(*x >= a && *x <= b),
        (Range::Float(a, b), toml::Value::Integer(x)) => out(*x as f64 >= a && *x as f64 <= b),
        (Range::Float(..), _) => Err(format!("is not a number: must be {range}")),
        (Range::Int(a, b), toml::Value::Integer(x)) => out(*x >= a && *x <= b),
        (Range::Int(..), _) => Err(format!("is not an integer: must be {range}")),
        (Range::Bool, toml::Value::Boolean(_)) => Ok(()),
        (Range::Bool, _) => Err("is not true or false".into()),
        (Range::Choice(c), toml::Value::String(s)) => out(c.contains(&s.as_str())),
        (Range::Choice(_), _) => Err(format!("is not a string: must be {range}")),
        (Range::ListOf(c), toml::Value::Array(a)) => check_list(a, c),
        (Range::Strings, toml::Value::Array(a)) if a.iter().all(|x| x.is_str()) => Ok(()),
        (Range::ListOf(_) | Range::Strings, _) => {
            Err(format!("is not a list of strings: must be {range}"))
        }
        (Range::Size, toml::Value::String(s)) if s == "auto" => Ok(()),
        (Range::Size, toml::Value::String(s)) => crate::shard::memory::parse_size(s)
            .and_then(crate::shard::memory::check_limit)
            .map(|_| ())
            .map_err(|e| format!("is not a usable size ({e}): must be {range}")),
        (Range::Text, toml::Value::String(_)) => Ok(()),
        (Range::Size | Range::Text, _) => Err(format!("is not a string: must be {range}")),
    }
}

fn check_list(a: &[toml::Value], allowed: &[&str]) -> Result<(), String> {
    for x in a {
        let Some(s) = x.as_str() else {
            return Err("must be a list of strings".into());
        };
        if !allowed.contains(&s) {
            let hint = suggest(s, allowed.iter().copied())
                .map_or(String::new(), |c| format!("; did you mean '{c}'?"));
            return Err(format!(
                "names unknown '{s}'{hint} (known: {})",
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_table() {
        let cases = [
            ("", "", 0),
            ("abc", "abc", 0),
            ("window_sec", "window_secs", 1),
            ("kitten", "sitting", 3),
            ("", "ab", 2),
        ];
        for (a, b, want) in cases {
            assert_eq!(edit_distance(a, b), want, "{a} {b}");
        }
        assert_eq!(suggest("k_sdt", ["k_std", "per_host"]), Some("k_std"));
        assert_eq!(suggest("zzzzzz", ["k_std"]), None);
    }
}
