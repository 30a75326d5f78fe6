#!/usr/bin/env python3
"""Regenerate src/render/st2/conf_check/options.rs: the st2.conf sections and options of each
StackStorm release st2k8s supports, taken from the StackStorm/st2 sources at the release tags.

Usage:
    git clone https://github.com/StackStorm/st2 /tmp/st2      # or any clone with the tags
    tools/st2-conf-options.py /tmp/st2 > src/render/st2/conf_check/options.rs
    cargo fmt

Facts, per release tag (RELEASES below):
- `conf/st2.conf.sample` (written by st2's tools/config_gen.py): every `[section]` and
  `option = default` line, and its comments: "This option has a deprecated alias: X" (X is the
  old name of the option below it), "DEPRECATED FOR REMOVAL since V: Use Y ..." and "NOTE: This
  option has been deprecated" (the option is deprecated, Y replaces it), "... ignored by pymongo"
  (the option is accepted but does nothing).
- Option groups config_gen.py leaves out of the sample (its SKIP_GROUPS, and command line
  options, which oslo.config also reads from the config files), read from the Python sources:
  `[rbac]` and `[results_tracker]` (st2common/config.py), `[api_pecan]` (st2api/config.py),
  `[register]` (st2common/content/bootstrap.py), `[DEFAULT]` (the common command line options of
  st2common/config.py and the sensor container's of st2reactor/sensor/config.py). Option names
  with dashes are read by oslo.config under their underscore form.

The sample files themselves are not part of st2k8s.
"""

import re
import subprocess
import sys

RELEASES = [("3.8", "v3.8.1"), ("3.9", "v3.9.0")]

# (section, file, Python list variable holding the options, or None for every option of the file)
EXTRA_GROUPS = [
    ("rbac", "st2common/st2common/config.py", "rbac_opts"),
    ("results_tracker", "st2common/st2common/config.py", "query_opts"),
    ("api_pecan", "st2api/st2api/config.py", "pecan_opts"),
    ("register", "st2common/st2common/content/bootstrap.py", "content_opts"),
    ("DEFAULT", "st2common/st2common/config.py", "cli_opts"),
    ("DEFAULT", "st2reactor/st2reactor/sensor/config.py", "cli_opts"),
]


def show(repo, tag, path):
    return subprocess.run(
        ["git", "-C", repo, "show", f"{tag}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def sample_options(text):
    """{(section, option): status} from a st2.conf.sample."""
    options = {}
    section = None
    comments = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#"):
            comments.append(line.lstrip("# "))
            continue
        m = re.fullmatch(r"\[([A-Za-z_]+)\]", line)
        if m:
            section, comments = m.group(1), []
            continue
        m = re.fullmatch(r"([A-Za-z0-9_]+) =.*", line)
        if not m:
            comments = []
            continue
        name = m.group(1)
        status = ("Ok", None)
        for c in comments:
            alias = re.fullmatch(r"This option has a deprecated alias: ([a-z0-9_]+)", c)
            if alias:
                options[(section, alias.group(1))] = ("Renamed", name)
            if "ignored by pymongo" in c:
                use = re.search(r"Use ([a-z0-9_]+)", c)
                status = ("Ignored", use.group(1) if use else None)
            elif c.startswith("DEPRECATED FOR REMOVAL"):
                use = re.search(r": Use ([a-z0-9_]+)", c)
                status = ("Deprecated", use.group(1) if use else None)
            elif "has been deprecated" in c:
                status = ("Deprecated", None)
        options[(section, name)] = status
        comments = []
    return options


def source_options(text, variable):
    """Option names registered in the Python list `variable = [...]` of a source file."""
    start = text.index(f"{variable} = [")
    depth, end = 0, start
    for i in range(text.index("[", start), len(text)):
        depth += {"[": 1, "]": -1}.get(text[i], 0)
        if depth == 0:
            end = i
            break
    block = text[start:end]
    return [n.replace("-", "_") for n in re.findall(r'Opt\(\s*"([A-Za-z0-9_-]+)"', block)]


def release_options(repo, tag):
    options = sample_options(show(repo, tag, "conf/st2.conf.sample"))
    for section, path, variable in EXTRA_GROUPS:
        for name in source_options(show(repo, tag, path), variable):
            options.setdefault((section, name), ("Ok", None))
    return options


def rust_status(status):
    kind, to = status
    if kind == "Ok":
        return "S::Ok"
    if kind == "Renamed":
        return f'S::Renamed("{to}")'
    return f'S::{kind}(Some("{to}"))' if to else f"S::{kind}(None)"


def main():
    repo = sys.argv[1]
    per_release = [(version, release_options(repo, tag)) for version, tag in RELEASES]
    keys = sorted(set().union(*(opts.keys() for _, opts in per_release)))
    tags = ", ".join(tag for _, tag in RELEASES)
    print(f"//! st2.conf sections and options of StackStorm {tags} (generated; do not edit).")
    print("//!")
    print("//! Facts from the StackStorm/st2 sources at those tags: `conf/st2.conf.sample` and the")
    print("//! option groups the sample leaves out. Regenerate with `tools/st2-conf-options.py`")
    print("//! (its header says how).")
    print()
    print("use super::Status as S;")
    print()
    print("/// `(section, option, [status in 3.8, status in 3.9])`, sorted by section, then option.")
    print("pub const OPTIONS: &[(&str, &str, [S; 2])] = &[")
    for section, name in keys:
        statuses = ", ".join(
            rust_status(opts[(section, name)]) if (section, name) in opts else "S::Absent"
            for _, opts in per_release
        )
        print(f'    ("{section}", "{name}", [{statuses}]),')
    print("];")


if __name__ == "__main__":
    main()
