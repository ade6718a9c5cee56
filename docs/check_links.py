"""Every relative link and image in README.md, docs/*.md and bench/README.md must resolve (file and #anchor).

Run from the repository root: python3 docs/check_links.py ."""
import re, sys, pathlib
root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
files = [root / "README.md", root / "bench/README.md", *sorted((root / "docs").glob("*.md"))]
link = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
def anchors(md):
    out = set()
    for line in md.read_text().splitlines():
        m = re.match(r"#+\s+(.*)", line)
        if m:
            a = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(a)
    return out
bad = 0; n = 0
for f in files:
    text = re.sub(r"```.*?```", "", f.read_text(), flags=re.S)
    for target in link.findall(text):
        if re.match(r"[a-z]+:", target):
            continue
        n += 1
        path, _, frag = target.partition("#")
        dest = (f.parent / path).resolve() if path else f
        if not dest.exists():
            print(f"{f.relative_to(root)}: missing {target}"); bad += 1
        elif frag and frag not in anchors(dest):
            print(f"{f.relative_to(root)}: no anchor {target}"); bad += 1
print(f"{n} relative links checked in {len(files)} files, {bad} broken")
sys.exit(1 if bad else 0)
