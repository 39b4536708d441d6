"""`hongyan` — the one command: quickstart, serve, worker, demo, import, export, backup,
restore, manage."""

import argparse
import os
import sys
import time

DEFAULT_DEMO_PASSWORD = "Hongyan-Demo-2026"


def _setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongyan.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        print(f"配置有误 / configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


def _migrate(verbosity: int = 0):
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def _pending_migrations() -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def cmd_demo(args) -> int:
    _setup_django()
    from hongyan.demo.city import load_demo_city

    password = args.password or os.environ.get("HONGYAN_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
    started = time.monotonic()
    print("迁移数据库 / migrating the database …", flush=True)
    _migrate()
    from hongyan.core.errors import DomainError

    try:
        summary = load_demo_city(password=password, seed=args.seed, progress=print)
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    print(f"演示城市已载入，用时 {time.monotonic() - started:.1f} 秒 / demo city loaded.")
    for line in summary["figures"]:
        print("  " + line)
    print(f"\n演示账号（密码均为 {password}）/ demo accounts, password {password}:")
    for username, role, unit in summary["accounts"]:
        print(f"  {username:<18} {role:<12} {unit}")
    print(
        "\n动态口令密钥（TOTP，Base32；三员登录时、查看完整个人信息前使用）"
        " / TOTP secrets (admins sign in with one; revealing personal data asks for one):"
    )
    for username, secret in summary.get("totp", []):
        print(f"  {username:<18} {secret}")
    return 0


def cmd_serve(args) -> int:
    _setup_django()
    if _pending_migrations():
        print(
            "数据库尚未迁移：请先运行 `hongyan manage migrate`（或 `hongyan demo`）。\n"
            "The database has unapplied migrations: run `hongyan manage migrate` first.",
            file=sys.stderr,
        )
        return 2
    # the check above opened a database connection: close it, or every forked worker
    # inherits the same socket and their queries' answers cross (found by the restart drill)
    from django.db import connections

    connections.close_all()
    from gunicorn.app.wsgiapp import run

    print(f"鸿雁已启动：http://{args.host}:{args.port}/  (Ctrl+C 停止)", flush=True)
    sys.argv = [
        "gunicorn",
        "hongyan.wsgi:application",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
    ]
    run()
    return 0


def cmd_quickstart(args) -> int:
    rc = cmd_demo(args)
    if rc or args.no_serve:
        return rc
    print()
    return cmd_serve(args)


def cmd_worker(args) -> int:
    _setup_django()
    from hongyan.core.worker import run_worker

    return run_worker(once=args.once, interval=args.interval)


def cmd_import(args) -> int:
    _setup_django()
    from hongyan.members.commands import import_members

    return import_members(args.file, unit_code=args.unit, dry_run=args.dry_run, report=args.report)


def cmd_export(args) -> int:
    _setup_django()
    from hongyan.members.commands import export_members

    return export_members(unit_code=args.unit, output=args.output)


def cmd_backup(args) -> int:
    _setup_django()
    from hongyan.core.backup import BackupError, backup

    try:
        header = backup(args.output)
    except BackupError as exc:
        print(f"备份失败 / backup failed: {exc}", file=sys.stderr)
        return 2
    rows = sum(header["row_counts"].values())
    print(
        f"备份已写入 {args.output}（SM4 加密，密钥 {header['key_id']}）/ backup written: "
        f"{header['vendor']}, {len(header['row_counts'])} tables, {rows} rows."
    )
    return 0


def cmd_restore(args) -> int:
    _setup_django()
    from hongyan.core.backup import BackupError, restore

    try:
        ok = restore(args.file)
    except BackupError as exc:
        print(f"未恢复 / not restored: {exc}", file=sys.stderr)
        return 2
    if not ok:
        print("恢复完成，但核对未通过 / restored, but the checks FAILED.", file=sys.stderr)
        return 1
    print("恢复完成，核对通过 / restored and verified.")
    return 0


def cmd_manage(args) -> int:
    _setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["hongyan manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hongyan", description="鸿雁 — 党建引领基层治理平台 / Hongyan"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def serve_options(p):
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument("--workers", type=int, default=2)

    def demo_options(p):
        p.add_argument("--password", help="password of every demo account")
        p.add_argument("--seed", type=int, default=1509, help="random seed (same seed, same city)")

    p = sub.add_parser("quickstart", help="create the data folder, load the demo city, serve it")
    demo_options(p)
    serve_options(p)
    p.add_argument("--no-serve", action="store_true", help="stop after loading")
    p.set_defaults(func=cmd_quickstart)

    p = sub.add_parser("serve", help="run the production web server (gunicorn)")
    serve_options(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run background jobs and periodic sweeps")
    p.add_argument("--once", action="store_true", help="run every due job once and exit")
    p.add_argument("--interval", type=int, default=60, help="seconds between sweeps")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("demo", help="load or reload the demo city (乌兰察布市)")
    demo_options(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", help="import a spreadsheet (.xlsx, .xls, .csv): members")
    p.add_argument("kind", choices=["members"])
    p.add_argument("file")
    p.add_argument("--unit", help="code of the community (or compound) the sheet belongs to")
    p.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    p.add_argument("--report", metavar="FILE.xlsx", help="also write the per-row report here")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export to .xlsx (personal data masked): members")
    p.add_argument("kind", choices=["members"])
    p.add_argument("--unit", help="code of the unit whose subtree is exported")
    p.add_argument("-o", "--output", required=True, metavar="FILE.xlsx")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("backup", help="write an encrypted (SM4) backup of the database")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup into an empty database and verify it")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("manage", help="any Django management command", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
