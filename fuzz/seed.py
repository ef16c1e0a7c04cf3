#!/usr/bin/env python3
"""Builds the fuzz targets' seed corpora (fuzz/seeds/<target>/, not committed) from what the
repository bundles: scenarios/*.toml, notebooks/scenarios/*.toml, the tests' inline scenarios,
the heads of data/traces/*.csv and every `--set` argument in the docs and tests. Then
`cargo fuzz cmin <target> fuzz/seeds/<target>` (or a run over it) keeps the ones that add
coverage in fuzz/corpus/<target>/."""
import glob, hashlib, json, os, re, tomllib

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(root, "fuzz", "seeds")


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def local(text):
    # Data files are looked for beside the scenario: point them at the scratch ones.
    text = re.sub(r'file = "[^"]*\.csv"', 'file = "trace.csv"', text)
    return text


tomls = sorted(glob.glob(f"{root}/scenarios/*.toml") + glob.glob(f"{root}/notebooks/scenarios/*.toml"))
texts = [open(p).read() for p in tomls]
for p in sorted(glob.glob(f"{root}/tests/it/*.rs")):
    src = open(p).read()
    for m in re.finditer(r'r#"(.*?)"#', src, re.S):
        s = m.group(1)
        if "[simulation]" in s or "[[services]]" in s or "[[clients]]" in s:
            texts.append(s)
for t in texts:
    put("scenario_toml", t)
    put("scenario_toml", local(t))
    try:
        put("scenario_json", json.dumps(tomllib.loads(local(t)), indent=1))
    except Exception:
        pass
for p in sorted(glob.glob(f"{root}/data/traces/*.csv")):
    lines = open(p).read().splitlines(keepends=True)
    put("trace_csv", "".join(lines[:12]))
    put("empirical_csv", "ms\n" + "".join(l.split(",")[-1] for l in lines[1:12]))
put("trace_csv", "t_s,rps\n0,5\n60,7.5\n120,0\n")
put("trace_csv", "t_s,rps\n0,5\n")
put("trace_csv", "t_s,rps\n10,5\n5,1\n")
put("trace_csv", "rps,t_s\n0,5\n")
put("empirical_csv", "ms\n1\n2.5\n30\n")
put("empirical_csv", "ms,weight\n1,2\n-3\n")
put("empirical_csv", "ms\n")
sets = set()
for p in [f"{root}/README.md"] + tomls + sorted(glob.glob(f"{root}/tests/it/*.rs")) + sorted(glob.glob(f"{root}/notebooks/*.py")):
    src = open(p).read()
    sets.update(re.findall(r'--set[ =]"?([A-Za-z_][\w.]*=[^\s"\']+)', src))
    sets.update(m for m in re.findall(r'"([a-z_]+(?:\.[\w]+)+=[^"]+)"', src))
for s in sorted(sets):
    put("set_override", s)
put("set_override", "services.web.cpu_time={ dist = \"gamma\", mean = \"5ms\", cv = 2 }\nsimulation.seed=7")
put("set_override", "target_groups.0.algorithm=random")
put("set_override", "nope")

# A dictionary for the scenario and --set targets: every key and string value of the
# bundled scenarios, and every field and variant name of src/scenario/file.rs.
words = set()
for t in texts:
    words.update(re.findall(r'\b([a-z_][a-z0-9_]*)\s*=', t))
    words.update(re.findall(r'"([A-Za-z0-9_./ -]{1,30})"', t))
file_rs = open(f"{root}/src/scenario/file.rs").read()
words.update(re.findall(r'pub ([a-z_][a-z0-9_]*):', file_rs))
words.update(re.findall(r'rename = "([^"]+)"', file_rs))
words.update(re.findall(r'alias = "([^"]+)"', file_rs))
for v in re.findall(r'^\s+([A-Z][A-Za-z0-9]*)\s*[,({]', file_rs, re.M):
    words.add(re.sub(r'(?<!^)([A-Z])', r'_\1', v).lower())
words.update(["1ms", "10s", "5m", "2h", "7d", "1e300", "nan", "inf", "-0", "[[", "]]", "{ ", " }", "\"\"\"", "'''", "trace.csv", "sample.csv"])
os.makedirs(os.path.join(root, "fuzz", "dict"), exist_ok=True)
with open(os.path.join(root, "fuzz", "dict", "scenario.dict"), "w") as f:
    f.write("# Keys and values of lbsim scenarios (made by fuzz/seed.py).\n")
    for w in sorted(words):
        f.write(json.dumps(w) + "\n")
