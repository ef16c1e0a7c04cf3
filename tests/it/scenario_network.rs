//! Scenario files for the network tasks take their addresses from: `[[subnets]]` parsed,
//! validated (names, Availability Zones, CIDR blocks of /16–/28, no host bits, no overlaps,
//! at most 16) and resolved into the [`WorldSpec`], and built into the model's `Network`.

use std::net::Ipv4Addr;

use lbsim::model::ecs::network::{Network, format_ip};
use lbsim::model::{Ipv4Cidr, ServiceId, SubnetSpec, WorldSpec};
use lbsim::scenario;

use super::cli::{BASE, lbsim, text, write};

/// [`BASE`] with three subnets over two zones; tests replace parts of it.
fn net() -> String {
    format!(
        r#"{BASE}
[[subnets]]
name = "private-a"
availability_zone = "eu-west-1a"
cidr = "10.20.0.0/20"

[[subnets]]
name = "private-b"
availability_zone = "eu-west-1b"
cidr = "10.20.16.0/28"

[[subnets]]
name = "private-a2"
availability_zone = "eu-west-1a"
cidr = "10.20.32.0/24"
"#
    )
}

fn load(text: &str, sets: &[&str]) -> Result<WorldSpec, scenario::ScenarioErrors> {
    crate::support::load_text("net.toml", text, sets)
}

fn cidr(a: [u8; 4], len: u8) -> Ipv4Cidr {
    Ipv4Cidr::new(Ipv4Addr::from(a), len)
}

#[test]
fn subnets_resolve_into_the_world_spec_in_order() {
    let w = load(&net(), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        w.subnets,
        [
            SubnetSpec {
                name: "private-a".into(),
                availability_zone: "eu-west-1a".into(),
                cidr: cidr([10, 20, 0, 0], 20),
            },
            SubnetSpec {
                name: "private-b".into(),
                availability_zone: "eu-west-1b".into(),
                cidr: cidr([10, 20, 16, 0], 28),
            },
            SubnetSpec {
                name: "private-a2".into(),
                availability_zone: "eu-west-1a".into(),
                cidr: cidr([10, 20, 32, 0], 24),
            },
        ]
    );
    let n = Network::build(&w.subnets).unwrap();
    assert_eq!(n.availability_zones(), ["eu-west-1a", "eu-west-1b"]);
    let usable: Vec<u32> = n.subnets().iter().map(|s| s.usable()).collect();
    assert_eq!(usable, [4091, 11, 251]);
    assert_eq!(n.subnets()[1].cidr().to_string(), "10.20.16.0/28");
}

#[test]
fn absent_subnets_are_the_default_network() {
    let w = load(BASE, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(w.subnets.is_empty(), "empty means lbsim's default network");
    assert!(WorldSpec::default().subnets.is_empty());
    let mut n = Network::build(&w.subnets).unwrap();
    assert_eq!(
        n.availability_zones(),
        ["us-east-1a", "us-east-1b", "us-east-1c"]
    );
    let blocks: Vec<String> = n.subnets().iter().map(|s| s.cidr().to_string()).collect();
    assert_eq!(blocks, ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]);
    assert_eq!(n.free(), 3 * 251);
    // The first tasks of a service go one per zone, at each subnet's first usable address.
    let ips: Vec<String> = (0..4)
        .map(|_| format_ip(n.allocate(ServiceId(0)).unwrap().ip))
        .collect();
    assert_eq!(ips, ["10.0.0.4", "10.0.1.4", "10.0.2.4", "10.0.0.5"]);
    assert_eq!(
        Network::build(&SubnetSpec::default_network())
            .unwrap()
            .subnets()
            .len(),
        3
    );
}

#[test]
fn the_edges_of_the_ranges_are_allowed() {
    let sixteen: String = (0..16)
        .map(|i| {
            format!(
                "\n[[subnets]]\nname = \"s{i}\"\navailability_zone = \"us-west-2{}\"\ncidr = \"10.{i}.0.0/16\"\n",
                ['a', 'b', 'c', 'd'][i % 4]
            )
        })
        .collect();
    let w = load(&format!("{BASE}{sixteen}"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.subnets.len(), 16);
    assert_eq!(w.subnets[15].cidr, cidr([10, 15, 0, 0], 16));
    let n = Network::build(&w.subnets).unwrap();
    assert_eq!(n.availability_zones().len(), 4);
    assert_eq!(n.free(), 16 * 65_531);
    // The smallest block, adjacent blocks, a Local Zone, names with underscores.
    let w = load(
        &net(),
        &[
            "subnets.0.cidr=10.20.16.16/28",
            "subnets.0.availability_zone=us-west-2-lax-1a",
            "subnets.2.name=Private_A2",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.subnets[0].cidr, cidr([10, 20, 16, 16], 28));
    assert_eq!(w.subnets[0].availability_zone, "us-west-2-lax-1a");
    assert_eq!(w.subnets[2].name, "Private_A2");
}

#[test]
fn overrides_reach_the_subnets_by_index_and_name() {
    let w = load(
        &net(),
        &[
            "subnets.0.cidr=10.0.0.0/28",
            "subnets.private-b.availability_zone=eu-west-1c",
            "subnets.private-a2.cidr=192.168.0.0/16",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.subnets[0].cidr, cidr([10, 0, 0, 0], 28));
    assert_eq!(w.subnets[1].availability_zone, "eu-west-1c");
    assert_eq!(w.subnets[2].cidr, cidr([192, 168, 0, 0], 16));
    // A whole list on the command line, on a scenario without one.
    let w = load(
        BASE,
        &["subnets=[{ name = \"only\", availability_zone = \"us-east-2b\", cidr = \"172.31.0.0/20\" }]"],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.subnets.len(), 1);
    assert_eq!(w.subnets[0].cidr, cidr([172, 31, 0, 0], 20));
    // A bad value set on the command line says so.
    let e = load(&net(), &["subnets.0.cidr=10.0.0.0/29"]).unwrap_err();
    assert!(
        e.to_string().contains(
            "subnets.0.cidr: \"10.0.0.0/29\": /29 is too small a block; allowed /16 (65,536 addresses) to /28 (16 addresses, 11 usable), as AWS allows for a subnet (set by --set subnets.0.cidr=10.0.0.0/29)"
        ),
        "{e}"
    );
}

/// Each bad value is one problem naming the field (dotted path) and what is allowed.
#[test]
fn bad_values_name_the_field_and_the_allowed_range() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "subnets.0.cidr=10.20.0.0",
            "subnets.0.cidr",
            "\"10.20.0.0\" is not a CIDR block: write an IPv4 address and a prefix length, like \"10.0.0.0/24\"",
        ),
        (
            "subnets.0.cidr=10.20.0.300/24",
            "subnets.0.cidr",
            "\"10.20.0.300/24\": \"10.20.0.300\" is not an IPv4 address (four numbers 0–255 separated by dots)",
        ),
        (
            "subnets.0.cidr=ten/24",
            "subnets.0.cidr",
            "\"ten\" is not an IPv4 address",
        ),
        (
            "subnets.0.cidr=10.20.0.0/abc",
            "subnets.0.cidr",
            "the prefix length \"abc\" is not a number; allowed /16 (65,536 addresses) to /28 (16 addresses, 11 usable), as AWS allows for a subnet",
        ),
        (
            "subnets.0.cidr=10.20.0.1/20",
            "subnets.0.cidr",
            "\"10.20.0.1/20\": host bits are set: a /20 block must start at its network address, here 10.20.0.0 (write \"10.20.0.0/20\")",
        ),
        (
            "subnets.2.cidr=10.20.33.0/20",
            "subnets.2.cidr",
            "host bits are set: a /20 block must start at its network address, here 10.20.32.0",
        ),
        (
            "subnets.1.cidr=10.20.16.0/29",
            "subnets.1.cidr",
            "\"10.20.16.0/29\": /29 is too small a block; allowed /16 (65,536 addresses) to /28 (16 addresses, 11 usable), as AWS allows for a subnet",
        ),
        (
            "subnets.1.cidr=10.20.16.0/32",
            "subnets.1.cidr",
            "/32 is too small a block; allowed /16",
        ),
        (
            "subnets.0.cidr=10.20.0.0/15",
            "subnets.0.cidr",
            "\"10.20.0.0/15\": /15 is too large a block; allowed /16 (65,536 addresses) to /28",
        ),
        (
            "subnets.0.cidr=24",
            "subnets.0.cidr",
            "invalid type: integer `24`, expected a string",
        ),
        (
            "subnets.2.cidr=10.20.8.0/24",
            "subnets.2.cidr",
            "\"10.20.8.0/24\" overlaps subnet \"private-a\" (subnets.0.cidr = \"10.20.0.0/20\"); the subnets of one VPC must not overlap",
        ),
        (
            "subnets.0.cidr=10.20.16.0/28",
            "subnets.1.cidr",
            "\"10.20.16.0/28\" overlaps subnet \"private-a\" (subnets.0.cidr = \"10.20.16.0/28\")",
        ),
        (
            "subnets.2.cidr=10.20.0.0/16",
            "subnets.2.cidr",
            "\"10.20.0.0/16\" overlaps subnet \"private-a\" (subnets.0.cidr = \"10.20.0.0/20\")",
        ),
        (
            "subnets.2.name=private-a",
            "subnets.2.name",
            "subnet name \"private-a\" is used twice; names must be unique",
        ),
        (
            "subnets.1.name=private b",
            "subnets.1.name",
            "\"private b\" is not a valid subnet name: use 1–64 letters, digits, hyphens and underscores",
        ),
        (
            "subnets.1.name=\"\"",
            "subnets.1.name",
            "is not a valid subnet name",
        ),
        (
            "subnets.0.availability_zone=eu-west-1",
            "subnets.0.availability_zone",
            "\"eu-west-1\" is not an Availability Zone name: write the Region and a zone letter, like \"us-east-1a\" (1–64 lowercase letters, digits and hyphens, ending in a digit and a letter)",
        ),
        (
            "subnets.0.availability_zone=euw1-az1",
            "subnets.0.availability_zone",
            "is not an Availability Zone name",
        ),
        (
            "subnets.0.availability_zone=EU-WEST-1A",
            "subnets.0.availability_zone",
            "is not an Availability Zone name",
        ),
        (
            "subnets.0.vpc=vpc-1",
            "subnets.0.vpc",
            "unknown field `vpc`, expected one of `name`, `availability_zone`, `cidr`",
        ),
        (
            "subnets=[]",
            "subnets",
            "no subnet given: give 1–16 [[subnets]] tables, or leave subnets out for lbsim's default network",
        ),
    ];
    for (set, field, want) in cases {
        let e = load(&net(), &[set]).unwrap_err();
        assert_eq!(e.0.len(), 1, "{set}: {e}");
        assert_eq!(e.0[0].field.as_deref(), Some(*field), "{set}: {e}");
        assert!(
            e.0[0].message.contains(want),
            "{set}: expected {want:?} in {e}"
        );
    }
    // A missing field.
    let e = load(&net().replacen("cidr = \"10.20.16.0/28\"\n", "", 1), &[]).unwrap_err();
    assert!(
        e.to_string().contains("subnets.1: missing field `cidr`"),
        "{e}"
    );
    // Too many: 17 subnets.
    let seventeen: String = (0..17)
        .map(|i| {
            format!(
                "\n[[subnets]]\nname = \"s{i}\"\navailability_zone = \"us-east-1a\"\ncidr = \"10.{i}.0.0/24\"\n"
            )
        })
        .collect();
    let e = load(&format!("{BASE}{seventeen}"), &[]).unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    assert_eq!(e.0[0].field.as_deref(), Some("subnets"), "{e}");
    assert!(
        e.0[0].message.contains(
            "17 [[subnets]]: at most 16 are allowed (AWS: an awsvpcConfiguration takes at most 16 subnets)"
        ),
        "{e}"
    );
    // Every problem is reported, not just the first.
    let e = load(
        &net(),
        &[
            "subnets.0.cidr=10.20.0.0/30",
            "subnets.1.availability_zone=b",
            "subnets.2.cidr=10.20.16.0/24",
        ],
    )
    .unwrap_err();
    let fields: Vec<_> = e.0.iter().filter_map(|i| i.field.as_deref()).collect();
    assert_eq!(
        fields,
        [
            "subnets.0.cidr",
            "subnets.1.availability_zone",
            "subnets.2.cidr"
        ],
        "{e}"
    );
}

#[test]
fn bad_subnets_are_clear_errors_with_the_line_and_exit_code_2() {
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "host bits set",
            "cidr = \"10.20.32.0/24\"",
            "cidr = \"10.20.32.7/24\"",
            &[
                ":44:",
                "subnets.2.cidr",
                "host bits are set",
                "\"10.20.32.0/24\"",
            ],
        ),
        (
            "a /29",
            "cidr = \"10.20.16.0/28\"",
            "cidr = \"10.20.16.0/29\"",
            &[
                ":39:",
                "subnets.1.cidr",
                "/29 is too small a block",
                "/16",
                "/28",
            ],
        ),
        (
            "an overlap",
            "cidr = \"10.20.32.0/24\"",
            "cidr = \"10.20.15.0/24\"",
            &[
                ":44:",
                "subnets.2.cidr",
                "overlaps subnet \"private-a\" (subnets.0.cidr = \"10.20.0.0/20\")",
            ],
        ),
        (
            "a bad zone",
            "availability_zone = \"eu-west-1b\"",
            "availability_zone = \"eu-west\"",
            &[":38:", "subnets.1.availability_zone", "like \"us-east-1a\""],
        ),
        (
            "a duplicate name",
            "name = \"private-a2\"",
            "name = \"private-b\"",
            &[":42:", "subnets.2.name", "used twice"],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let good = net();
    let sc = write(&dir, "net.toml", &good);
    let o = lbsim(&["validate", sc.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    for (what, from, to, wants) in cases {
        assert!(good.contains(from), "{what}: the scenario lacks {from}");
        let sc = write(&dir, "bad.toml", &good.replacen(from, to, 1));
        let o = lbsim(&["validate", sc.to_str().unwrap()]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {t}");
        for w in *wants {
            assert!(t.contains(w), "{what}: expected {w:?} in {t}");
        }
    }
}

/// The format's JSON Schema describes `[[subnets]]` for editors.
#[test]
fn the_schema_describes_subnets() {
    let s = lbsim::scenario::file::schema();
    let subnets = &s["properties"]["subnets"];
    assert!(subnets.is_object(), "{s:#}");
    let text = s.to_string();
    for want in ["availability_zone", "cidr", "10.0.0.0/24", "/16 to /28"] {
        assert!(text.contains(want), "the schema lacks {want}");
    }
}
