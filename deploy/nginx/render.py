#!/usr/bin/env python3
"""Write Garage's nginx configuration from the templates beside this file (stdlib only).

    python3 deploy/nginx/render.py --out /etc/nginx/garage --root /srv/garage \\
        --instances 5001,5002,5003 --server-name garage.example.com \\
        [--tls /etc/ssl/garage.pem /etc/ssl/private/garage.key] [--down 5002] [--keepalive 16]

writes OUT/upstream.conf, OUT/locations.conf and OUT/garage.conf (the site: plain HTTP, or HTTPS
with --tls); include OUT/garage.conf in nginx's http { } (a symlink in sites-enabled/) and run
`nginx -t && nginx -s reload`. --down drains an instance (rolling deploy, docs/deployment.md).
Every GARAGE_... placeholder is filled; nginx's own $variables are left alone."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent
TEMPLATES = ("upstream.conf", "locations.conf")
PASSIVE_CHECK = "max_fails=2 fail_timeout=5s"


def address(instance: str) -> str:
    """'5001' -> '127.0.0.1:5001'; 'host:port' and 'unix:/path' as given."""
    return f"127.0.0.1:{instance}" if instance.isdigit() else instance


def upstream_lines(instances: list[str], down: list[str] = ()) -> str:
    drained = {address(i) for i in down}
    unknown = drained - {address(i) for i in instances}
    if unknown:
        raise ValueError(f"--down names no instance: {', '.join(sorted(unknown))}")
    if instances and drained >= {address(i) for i in instances}:
        raise ValueError("--down would drain every instance")
    return "\n".join(f"    server {address(i)} {PASSIVE_CHECK}{' down' if address(i) in drained else ''};"
                     for i in instances)


def render(out: Path, root: Path, instances: list[str], *, down: list[str] = (), listen: str = "80",
           server_name: str = "_", log_dir: str = "/var/log/nginx",
           tls: tuple[str, str] | None = None, tls_listen: str = "443", keepalive: int = 0) -> Path:
    """Write the three files into `out`; returns the site file (OUT/garage.conf). `keepalive`: idle
    connections each nginx worker keeps open to the instances (0: none; only for threaded workers)."""
    if not instances:
        raise ValueError("at least one instance is needed")
    if keepalive < 0:
        raise ValueError("--keepalive must be 0 or more")
    values = {
        "GARAGE_ROOT": str(root), "GARAGE_NGINX_DIR": str(out), "GARAGE_LISTEN": listen,
        "GARAGE_SERVER_NAME": server_name, "GARAGE_LOG_DIR": log_dir,
        "GARAGE_UPSTREAMS": upstream_lines(instances, down),
        "GARAGE_UPSTREAM_KEEPALIVE": f"\n    keepalive {keepalive};" if keepalive else "",
        "GARAGE_TLS_LISTEN": tls_listen, "GARAGE_TLS_CERT": tls[0] if tls else "",
        "GARAGE_TLS_KEY": tls[1] if tls else "",
    }
    out.mkdir(parents=True, exist_ok=True)
    site = "garage-tls.conf" if tls else "garage.conf"
    for source, target in [*((name, name) for name in TEMPLATES), (site, "garage.conf")]:
        text = Template((HERE / source).read_text()).safe_substitute(values)
        left = re.findall(r"\$\{GARAGE_\w+\}", text)
        if left:
            raise ValueError(f"{source}: no value for {', '.join(sorted(set(left)))}")
        (out / target).write_text(text)
    return out / "garage.conf"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for the rendered files")
    parser.add_argument("--root", type=Path, default=HERE.parent.parent,
                        help="the Garage checkout (static/ is served from it); default: this one")
    parser.add_argument("--instances", required=True,
                        help="comma-separated ports on 127.0.0.1, or host:port, e.g. 5001,5002,5003")
    parser.add_argument("--down", default="", help="comma-separated instances to drain")
    parser.add_argument("--listen", default="80", help="nginx's listen for plain HTTP (default 80)")
    parser.add_argument("--server-name", default="_")
    parser.add_argument("--log-dir", default="/var/log/nginx")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS (garage-tls.conf)")
    parser.add_argument("--tls-listen", default="443")
    parser.add_argument("--keepalive", type=int, default=0,
                        help="idle connections kept open to the instances (threaded workers only; default 0)")
    args = parser.parse_args(argv)
    split = lambda text: [part.strip() for part in text.split(",") if part.strip()]  # noqa: E731
    try:
        site = render(args.out.resolve(), args.root.resolve(), split(args.instances), down=split(args.down),
                      listen=args.listen, server_name=args.server_name, log_dir=args.log_dir,
                      tls=tuple(args.tls) if args.tls else None, tls_listen=args.tls_listen, keepalive=args.keepalive)
    except ValueError as exc:
        print(f"render.py: {exc}", file=sys.stderr)
        return 2
    print(site)
    return 0


if __name__ == "__main__":
    sys.exit(main())
