// Every C enum of the header has a Rust enum whose variants are the C constants' suffixes in
// PascalCase, and whose Display/FromStr spelling is the lowercase suffix (the spelling of the
// JSON, the command line and every binding). The rule, as in bindings/tools/c_header.py: the
// prefix is the one of the enum's _MAX_ENUM sentinel, and for spattn_status "SPATTN_ERR_" or
// else "SPATTN_"; sentinels are not values. The header is read here, not the bindings.
use spattn::*;
use std::collections::{BTreeMap, BTreeSet};

fn header() -> String {
    let repo = match std::env::var("SPATTN_SOURCE_DIR") {
        Ok(dir) => std::path::PathBuf::from(dir),
        Err(_) => std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.."),
    };
    std::fs::read_to_string(repo.join("include/spattn/spattn.h")).expect("include/spattn/spattn.h")
}

/// {C enum name: {(value, spelling, PascalCase)}} from the header's `typedef enum` blocks.
fn header_enums() -> BTreeMap<String, BTreeSet<(u32, String, String)>> {
    let text = header();
    let mut result = BTreeMap::new();
    for block in text.split("typedef enum ").skip(1) {
        let name = block.split_whitespace().next().unwrap().to_string();
        let body = &block[block.find('{').unwrap() + 1..block.find('}').unwrap()];
        let constants: Vec<(String, u32)> = body
            .lines()
            .filter_map(|line| {
                let line = line.split("/*").next().unwrap().trim().trim_end_matches(',');
                let (constant, value) = line.split_once('=')?;
                let value = value.trim();
                let value = match value.strip_prefix("0x") {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => value.parse().ok()?,
                };
                Some((constant.trim().to_string(), value))
            })
            .collect();
        let sentinel = constants.iter().find(|(c, _)| c.ends_with("_MAX_ENUM")).expect("sentinel").0.clone();
        let prefixes = [sentinel.trim_end_matches("MAX_ENUM").to_string(), "SPATTN_ERR_".into(), "SPATTN_".into()];
        let values = constants
            .iter()
            .filter(|(c, _)| *c != sentinel)
            .map(|(c, v)| {
                let prefix = prefixes.iter().find(|p| c.starts_with(p.as_str())).expect("prefix");
                let spelling = c[prefix.len()..].to_lowercase();
                let pascal: String = spelling
                    .split('_')
                    .map(|part| part[..1].to_uppercase() + &part[1..])
                    .collect();
                (*v, spelling, pascal)
            })
            .collect();
        result.insert(name, values);
    }
    result
}

macro_rules! rust_enums {
    ($($t:ident),+) => {{
        let mut map = BTreeMap::new();
        $(
            let values: BTreeSet<(u32, String, String)> = $t::ALL
                .iter()
                .map(|v| {
                    // Display and FromStr agree, and a value survives a trip through C.
                    assert_eq!(v.to_string().parse::<$t>().unwrap(), *v);
                    assert_eq!($t::from(v.raw()), *v);
                    (v.raw() as u32, v.to_string(), format!("{:?}", v))
                })
                .collect();
            map.insert($t::C_NAME.to_string(), values);
        )+
        map
    }};
}

#[test]
fn every_enum_follows_the_vocabulary() {
    let expected = header_enums();
    assert!(expected.len() >= 10, "{:?}", expected.keys());
    let got = rust_enums!(ErrorKind, LogLevel, Algorithm, Phase, Format, KtCacheDtype, IndexerKDtype, Source, DisabledReason, PhaseKey, Dtype, KvLayout, VsaDirection);
    for (name, values) in &expected {
        assert_eq!(got.get(name), Some(values), "enum {}: the header's values (value, spelling, variant) vs Rust's", name);
    }
    assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
}

#[test]
fn spellings_and_errors() {
    assert_eq!(DisabledReason::Ignored.to_string(), "ignored");
    assert_eq!(DisabledReason::Not.to_string(), "not");
    assert_eq!(DisabledReason::NotTarget.to_string(), "not_target");
    assert_eq!("formula".parse::<Source>().unwrap(), Source::Formula);
    assert_eq!(PhaseKey::Sparse.to_string(), "sparse");
    let e = "generate".parse::<Phase>().unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("\"generate\" is not one of prefill, decode"), "{}", e.message);
    assert!("max_enum".parse::<Format>().is_err());
    assert_eq!(Source::from(77), Source::Other(77));
    assert_eq!(Source::Other(77).to_string(), "other(77)");
}
