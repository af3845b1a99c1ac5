#!/usr/bin/env python3
"""gen_freeze.py - list every public struct member of the ALD SDK headers,
for the ABI freeze (engine/ports/abi_freeze.c).

Usage: gen_freeze.py INCLUDE_DIR > probe.c ; cc -I INCLUDE_DIR probe.c && ./a.out
The probe prints one _Static_assert per member offset and one size rule per
struct, as measured by the compiler on this (LP64) platform. Run it on the
FROZEN headers of a release (tests/abi/1.0/include) to regenerate the freeze.
"""
import re
import sys
from pathlib import Path

HEADERS = ["abi.h", "host.h", "plc.h", "storage.h"]


def structs(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"#[^\n]*(\\\n[^\n]*)*", "", text)
    pat = re.compile(r"(typedef\s+)?struct\s+(\w+)\s*\{(.*?)\}\s*(\w*)\s*;", re.S)
    for m in pat.finditer(text):
        name = m.group(4) or m.group(2)
        if not m.group(4):  # struct ald_host {...}; used through its typedef
            name = m.group(2)
        members = []
        for decl in m.group(3).split(";"):
            decl = " ".join(decl.split())
            if not decl:
                continue
            fp = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)
            if fp:
                members.append(fp.group(1))
            else:
                members.append(re.findall(r"(\w+)\s*(?:\[[^\]]*\])?\s*$", decl)[0])
        yield name, members


def main():
    inc = Path(sys.argv[1]) / "ald"
    print('#include <stdio.h>\n#include <stddef.h>\n#include "ald/plugin.h"\nint main(void)\n{')
    for h in HEADERS:
        for name, members in structs((inc / h).read_text()):
            t = name if name != "ald_host" else "struct ald_host"
            last = members[-1]
            print(f'    printf("/* {name} */\\n");')
            for mem in members:
                print(f'    printf("ALD_FREEZE_OFFSET({t}, {mem}, %zu);\\n", offsetof({t}, {mem}));')
            print(f'    printf("ALD_FREEZE_SIZE({t}, %zu, {last});\\n", sizeof({t}));')
    print("    return 0;\n}")


main()
