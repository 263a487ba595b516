#!/usr/bin/env python3
"""Turns the YAML templates in manifests/ into a C++ source file, so that the one static mesh
binary carries them and `mesh manifest generate` works from any directory.

usage: embed_manifests.py OUTPUT.cpp TEMPLATE.yaml...

The templates keep the order given on the command line: it is the order in which `mesh
install` applies them (CRDs and the namespace before what lives in them)."""
import os
import sys


def cpp_literal(text):
    # Raw string literals keep the YAML readable in the generated file; the delimiter is chosen
    # so that no template can end the literal early.
    delimiter = "MESHYAML"
    while ")" + delimiter + '"' in text:
        delimiter += "X"
    return f'R"{delimiter}({text}){delimiter}"'


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    output, inputs = argv[1], argv[2:]
    entries = []
    for path in inputs:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        name = os.path.basename(path)
        entries.append(f'    {{"{name}", {cpp_literal(text)}}},')
    body = "\n".join(entries)
    source = f"""// Generated from manifests/ by scripts/embed_manifests.py at build time.
#include "pilot/kube/embedded.h"

namespace mesh::pilot::kube {{

namespace {{

const ManifestTemplate kTemplates[] = {{
{body}
}};

}}  // namespace

std::span<const ManifestTemplate> embeddedManifests() {{ return kTemplates; }}

}}  // namespace mesh::pilot::kube
"""
    tmp = output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(source)
    os.replace(tmp, output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
