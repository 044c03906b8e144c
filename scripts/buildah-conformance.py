#!/usr/bin/env python3
"""buildah-conformance.py - score kiln against buildah on buildah's conformance corpus.

What it does
  For every case of ../shared/conformance/buildah/cases.tsv (buildah's
  tests/conformance table, see that directory's README.md) it assembles the
  build context the way upstream does (copy testdata, write the inline
  Dockerfile, apply the context tweaks, set mtimes to 1485449953), maps base
  images that are not available offline to local stand-ins (same rewrite for
  both builders), builds the case with kiln AND with buildah (no cache, host
  network, the case's build args, Docker v2s2 output), exports both images as
  docker-archive tars and compares them like upstream's conformance_test.go:
    * config: Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes,
      Labels (minus buildah's io.buildah.version), StopSignal, Healthcheck,
      Shell, OnBuild, architecture, os (created/history/diff_ids ignored);
    * filesystem: all layers applied in memory (whiteouts honoured); for every
      path type, mode, uid, gid, size, link target, xattrs, mtime, except the
      case's fs_skip keys and the global skips (mtimes of /dev /proc /sys /etc).
  Cases expected to fail must fail with both builders (kiln's stderr, with
  whitespace collapsed, must match failure_regex when given).
  Writes PREFIX.tsv (index, name, verdict, reason) and PREFIX.txt (summary).

Base image mapping (offline lab):
    mirror.gcr.io/busybox[@sha256:...]  -> busybox   (local registry mirror)
    mirror.gcr.io/alpine                -> busybox   (cases only need a shell)
      ... both -> debian:bookworm when the Dockerfile needs /etc/os-release,
      /etc/nsswitch.conf or USER daemon (the lab busybox lacks them)
    quay.io/libpod/centos:7             -> debian:bookworm (needs bash, printf %q,
                                                        users lp/bin, groups adm/mail)
    quay.io/libpod/busybox@sha256:... + quay.io/fedora/python-311 -> unavailable (case skipped)
  Other stand-ins: mount-targets cases get a statically linked "true" program
  (the host's /usr/bin/busybox, which acts as `true` when called so) in place
  of upstream's `go build` of true.go; cases that ADD from the internet and
  the one that needs bash as /bin/sh (printf %q) are skipped.

Needs
  * the kiln lab (../shared/lab/setup.sh): registry on 127.0.0.1:5000 holding
    library/busybox and library/debian:bookworm, and
    /etc/containers/registries.conf.d/50-kiln-lab.conf mirroring docker.io/library;
  * buildah (tested with 1.28.2, vfs storage, chroot isolation), run as root;
  * a kiln binary (default .build/release/kiln); Python 3 standard library only.

Usage
  python3 scripts/buildah-conformance.py [--kiln PATH] [--cases 0,5,7]
        [--out-prefix PATH] [--work DIR] [--timeout SECONDS] [--keep]
"""

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CORPUS = os.path.join(os.environ.get("KILN_SHARED", os.path.join(REPO, "..", "shared")), "conformance", "buildah")
MTIME = 1485449953

ATTRS = {"mtime", "mode", "uid", "gid", "size", "type", "linkname", "xattrs"}
CONFIG_KEYS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts",
               "Volumes", "Labels", "StopSignal", "Healthcheck", "Shell", "OnBuild"]
GLOBAL_SKIP = [("dev", "mtime"), ("proc", "mtime"), ("sys", "mtime"), ("etc", "mtime")]

IMAGE_MAP = [
    (re.compile(r"mirror\.gcr\.io/busybox(@sha256:[0-9a-f]{64})?"), "@BUSYBOX@"),
    (re.compile(r"mirror\.gcr\.io/alpine"), "@BUSYBOX@"),
    (re.compile(r"quay\.io/libpod/centos:7"), "debian:bookworm"),
]
# The lab's busybox is minimal (passwd has only root and nobody, no
# /etc/os-release or /etc/nsswitch.conf); Dockerfiles that rely on those get
# debian:bookworm in place of busybox/alpine instead.
NEEDS_FULLER_BASE = re.compile(r"/etc/os-release|/etc/nsswitch\.conf|USER\s+daemon")
# Symbolic links of the upstream testdata (README.md); the shared copy may
# hold them as regular files containing the target, so they are recreated.
SYMLINKS = [
    ("copysymlink/file-link.tar.gz", "file.tar.gz"),
    ("replace/symlink-with-directory/tree1/maybe-directory", "directory"),
    ("dockerignore/populated/subdir-c/file-c.txt", "../file-b.txt"),
    ("dockerignore/populated/subdir-c/file-b.txt", "../file-a.txt"),
    ("dockerignore/populated/subdir-e/file-a.txt", "../file-a.txt"),
    ("dockerignore/populated/subdir-e/file-b.txt", "../file-b.txt"),
    ("dockerignore/populated/subdir-e/subdir-f/file-n.txt", "../file-n.txt"),
    ("dockerignore/populated/subdir-e/subdir-f/file-a.txt", "../../file-a.txt"),
    ("dockerignore/populated/subdir-e/subdir-f/subdir-g/subdir-b", "../../../subdir-b"),
]
UNAVAILABLE = [re.compile(r"quay\.io/fedora/python-311"),
               re.compile(r"quay\.io/libpod/busybox\$\{TARGETARCH")]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def read_cases():
    with open(os.path.join(CORPUS, "cases.tsv")) as f:
        lines = f.read().split("\n")
    hdr = lines[0].split("\t")
    cases = []
    for ln in lines[1:]:
        if not ln:
            continue
        cases.append(dict(zip(hdr, ln.split("\t"))))
    return cases


def jcell(c, k, default):
    v = c.get(k, "")
    return json.loads(v) if v else default


def truthy(c, k):
    return c.get(k, "") == "true"


# ---------------------------------------------------------------- context
def mapimg(text, fuller=False):
    for rx, rep in IMAGE_MAP:
        text = rx.sub(rep, text)
    return text.replace("@BUSYBOX@", "debian:bookworm" if fuller else "busybox")


def write_file(path, data, mode=0o644, uid=0, gid=0, mtime=MTIME, xattrs=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    os.chown(path, uid, gid)
    for k, v in (xattrs or {}).items():
        os.setxattr(path, k, v)
    os.utime(path, (mtime, mtime))


def tar_add(tf, name, data, mode, uid=0, gid=0, pax=None, typ=tarfile.REGTYPE):
    ti = tarfile.TarInfo(name)
    ti.type = typ
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.mtime = MTIME
    if pax:
        ti.pax_headers = pax
    if typ == tarfile.REGTYPE:
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        tf.addfile(ti)


NEEDS_BASH_SH = {"Dockerfile.quoted-arg"}


def tweak(c, ctx):
    """Apply the upstream tweakContextDir for this case (see tweak_summary)."""
    idx = int(c["index"])
    di = c.get("tweak_dockerignore", "")
    if di:
        m = re.search(r"mode (0[0-7]+)", c.get("tweak_summary", ""))
        mode = int(m.group(1), 8) if m else 0o644
        write_file(os.path.join(ctx, ".dockerignore"), json.loads(di).encode(), mode)
        return
    tc = b"test content"
    if c["context_dir"] == "mount-targets":
        shutil.copy("/usr/bin/busybox", os.path.join(ctx, "true"))
        os.chmod(os.path.join(ctx, "true"), 0o755)
        os.utime(os.path.join(ctx, "true"), (MTIME, MTIME))
    elif idx == 1:
        for d, content in (("jkl?", b"another"), ("n?pe", b"and also"), ("st*uv", b"and yet")):
            p = os.path.join(ctx, "app", d)
            os.makedirs(p, exist_ok=True)
            os.chmod(p, 0o700)
            write_file(os.path.join(p, "file.txt"), content, 0o600)
    elif idx == 38:
        write_file(os.path.join(ctx, "archive", "should-be-owned-by-root"), tc, 0o640)
        write_file(os.path.join(ctx, "archive", "should-be-owned-by-99"), tc, 0o640, 99, 99)
        with tarfile.open(os.path.join(ctx, "archive.tar"), "w", format=tarfile.PAX_FORMAT) as tf:
            tar_add(tf, "should-be-owned-by-root", tc, 0o640)
            tar_add(tf, "should-be-owned-by-99", tc, 0o640, 99, 99)
    elif idx in (39, 40):
        write_file(os.path.join(ctx, "subdir", "would-be-owned-by-root"), tc, 0o640)
        write_file(os.path.join(ctx, "subdir", "would-be-owned-by-99"), tc, 0o640, 99, 99)
    elif idx == 43:
        for n, m in (("should-be-setuid-file", 0o4755), ("should-be-setgid-file", 0o2755),
                     ("should-be-sticky-file", 0o1755),
                     ("should-not-be-setuid-setgid-sticky-file", 0o640)):
            write_file(os.path.join(ctx, n), tc, m)
    elif idx in (44, 49):
        write_file(os.path.join(ctx, "xattrs-file"), tc, 0o640, xattrs={"user.a": b"test"})
    elif idx == 46:
        with tarfile.open(os.path.join(ctx, "archive.tar"), "w", format=tarfile.PAX_FORMAT) as tf:
            for n, m in (("setuid-file", 0o4755), ("setgid-file", 0o2755), ("sticky-file", 0o1755)):
                tar_add(tf, n, b"whatever", m)
            for n, m in (("setuid-dir", 0o4755), ("setgid-dir", 0o2755), ("sticky-dir", 0o1755)):
                tar_add(tf, n, b"", m, typ=tarfile.DIRTYPE)
    elif idx == 47:
        with tarfile.open(os.path.join(ctx, "archive.tar"), "w", format=tarfile.PAX_FORMAT) as tf:
            tar_add(tf, "xattr-file", b"whatever", 0o640, pax={"SCHILY.xattr.user.a": "test"})


def normalize_modes(ctx):
    """The shared corpus copy is read-only (0555/0444); give the context the
    modes a git checkout with umask 022 has (dirs 0755, files 0644 or 0755)."""
    for root, dirs, files in os.walk(ctx):
        os.chmod(root, 0o755)
        for n in files:
            p = os.path.join(root, n)
            if os.path.islink(p):
                continue
            os.chmod(p, 0o755 if os.stat(p).st_mode & 0o100 else 0o644)


def restore_symlinks(c, ctx):
    if not c["context_dir"]:
        return
    pre = c["context_dir"].rstrip("/") + "/"
    for rel, target in SYMLINKS:
        if rel.startswith(pre):
            p = os.path.join(ctx, rel[len(pre):])
            if os.path.lexists(p) and not os.path.islink(p):
                st = os.stat(os.path.dirname(p))
                os.unlink(p)
                os.symlink(target, p)
                os.utime(p, (MTIME, MTIME), follow_symlinks=False)
                os.utime(os.path.dirname(p), ns=(st.st_atime_ns, st.st_mtime_ns))


def setup_context(c, ctx):
    """Returns (dockerfile_path, skip_reason)."""
    if os.path.exists(ctx):
        shutil.rmtree(ctx)
    os.makedirs(ctx)
    td = os.path.join(CORPUS, "testdata")
    if c["context_dir"]:
        subprocess.run(["cp", "-a", os.path.join(td, c["context_dir"]) + "/.", ctx], check=True)
    elif c["dockerfile"]:
        subprocess.run(["cp", "-a", os.path.join(td, c["dockerfile"]), ctx], check=True)
    normalize_modes(ctx)
    restore_symlinks(c, ctx)
    df = os.path.join(ctx, c["dockerfile"] or "Dockerfile")
    if c["dockerfile_contents_file"]:
        with open(os.path.join(CORPUS, c["dockerfile_contents_file"]), "rb") as f:
            data = f.read()
        os.makedirs(os.path.dirname(df), exist_ok=True)
        with open(df, "wb") as f:
            f.write(data)
    if truthy(c, "tweak_context") or c["context_dir"] == "mount-targets":
        tweak(c, ctx)
    with open(df, encoding="utf-8") as f:
        text = f.read()
    for rx in UNAVAILABLE:
        if rx.search(text):
            return df, "skipped: base image %s unavailable offline" % rx.pattern.replace("\\", "")
    if re.search(r"(?im)^\s*ADD\s+(--\S+\s+)*https?://", text):
        return df, "skipped: ADD from the internet (no network in the lab)"
    if c["dockerfile"] in NEEDS_BASH_SH:
        return df, "skipped: needs bash as /bin/sh (printf %q); no CentOS stand-in offline"
    c["_fuller"] = bool(NEEDS_FULLER_BASE.search(text))
    new = mapimg(text, c["_fuller"])
    if new != text:
        with open(df, "w", encoding="utf-8") as f:
            f.write(new)
    os.utime(df, (MTIME, MTIME))
    os.utime(ctx, (MTIME, MTIME))
    return df, None


# ---------------------------------------------------------------- builds
def run(cmd, timeout, env=None):
    t0 = time.time()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, env=env)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"), time.time() - t0
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        err = (e.stderr or b"").decode(errors="replace")
        return 124, out, err + "\nTIMEOUT after %ss" % timeout, time.time() - t0


def build_args(c):
    out = []
    for k, v in jcell(c, "build_args", {}).items():
        out += ["--build-arg", "%s=%s" % (k, mapimg(v, c.get("_fuller", False)))]
    return out


def build_kiln(a, c, ctx, df, tarpath):
    cmd = [a.kiln, "build", "--root", os.path.join(a.work, "kroot"), "--no-cache",
           "--network", "host", "--progress", "plain", "-f", df,
           "-o", "type=docker,dest=" + tarpath] + build_args(c) + [ctx]
    return cmd, run(cmd, a.timeout)


def buildah_base(a):
    return ["buildah", "--root", os.path.join(a.work, "broot"),
            "--runroot", os.path.join(a.work, "brun"), "--storage-driver", "vfs"]


def build_buildah(a, c, ctx, df, tarpath):
    tag = "localhost/bconf:case%s" % c["index"]
    cmd = buildah_base(a) + ["bud", "--layers=false", "--no-cache", "--network", "host",
                             "--isolation", "chroot", "--format", "docker", "-f", df,
                             "-t", tag] + build_args(c) + [ctx]
    r = run(cmd, a.timeout)
    if r[0] == 0:
        p = run(buildah_base(a) + ["push", tag, "docker-archive:" + tarpath], a.timeout)
        run(buildah_base(a) + ["rmi", "-f", tag], a.timeout)
        if p[0] != 0:
            return cmd, (p[0], r[1], "push failed: " + p[2], r[3])
    return cmd, r


# ---------------------------------------------------------------- image reading
def read_archive(path):
    """Return (config dict, {path: attrs}) from a docker-archive tar."""
    outer = tarfile.open(path, "r:")
    members = {m.name.lstrip("./") if m.name.startswith("./") else m.name: m for m in outer.getmembers()}

    def get(name, depth=0):
        name = os.path.normpath(name)
        m = members[name]
        if m.issym() and depth < 5:
            return get(os.path.join(os.path.dirname(name), m.linkname), depth + 1)
        return outer.extractfile(m)

    manifest = json.load(get("manifest.json"))[0]
    config = json.load(get(manifest["Config"]))
    tree = {}
    for lp in manifest["Layers"]:
        apply_layer(tree, get(lp))
    return config, tree


def norm(name):
    name = name.strip()
    while name.startswith("./"):
        name = name[2:]
    return name.strip("/")


def drop_subtree(tree, p, keep=None):
    pre = p + "/"
    for k in [k for k in tree if k == p or k.startswith(pre)]:
        if keep is None or k not in keep:
            del tree[k]


def apply_layer(tree, fobj):
    tf = tarfile.open(fileobj=fobj, mode="r:*")
    added = set()
    for m in tf:
        name = norm(m.name)
        if name in ("", "."):
            continue
        d, b = os.path.split(name)
        if b == ".wh..wh..opq":
            for k in [k for k in tree if d == "" or k.startswith(d + "/")]:
                if k not in added:
                    del tree[k]
            continue
        if b.startswith(".wh."):
            drop_subtree(tree, os.path.join(d, b[4:]))
            continue
        xattrs = {k[len("SCHILY.xattr."):]: v for k, v in m.pax_headers.items()
                  if k.startswith("SCHILY.xattr.")}
        if m.islnk():
            tgt = tree.get(norm(m.linkname))
            ent = dict(tgt) if tgt else {"type": "hardlink-dangling", "linkname": m.linkname}
        else:
            if m.isdir():
                typ = "dir"
            elif m.issym():
                typ = "symlink"
            elif m.isreg():
                typ = "file"
            elif m.ischr():
                typ = "char"
            elif m.isblk():
                typ = "block"
            elif m.isfifo():
                typ = "fifo"
            else:
                typ = "other"
            ent = {"type": typ, "mode": "%04o" % (m.mode & 0o7777), "uid": m.uid,
                   "gid": m.gid, "mtime": int(m.mtime), "xattrs": xattrs}
            if typ == "file":
                ent["size"] = m.size
            if typ == "symlink":
                ent["linkname"] = m.linkname
            if typ in ("char", "block"):
                ent["dev"] = "%d,%d" % (m.devmajor, m.devminor)
        old = tree.get(name)
        if old is not None and (old["type"] == "dir") != (ent["type"] == "dir"):
            drop_subtree(tree, name)
        tree[name] = ent
        added.add(name)


# ---------------------------------------------------------------- comparison
def parse_skips(keys):
    out = []
    for k in keys:
        toks = [t for t in k.split(":") if t != "(dir)"]
        if toks and toks[-1] in ATTRS:
            out.append(("/".join(toks[:-1]), toks[-1]))
        else:
            out.append(("/".join(toks), None))
    return out


def norm_cfg(v):
    if v in ([], {}, "", None):
        return None
    return v


SCRATCH_WORKDIR = 'config.WorkingDir: buildah=null kiln="/"'


def compare_config(ref, cand):
    diffs = []
    rc, cc = ref.get("config") or {}, cand.get("config") or {}
    for k in CONFIG_KEYS:
        rv, cv = norm_cfg(rc.get(k)), norm_cfg(cc.get(k))
        if k == "Labels":
            rv = norm_cfg({a: b for a, b in (rv or {}).items() if a != "io.buildah.version"})
            cv = norm_cfg({a: b for a, b in (cv or {}).items() if a != "io.buildah.version"})
        if rv != cv:
            diffs.append("config.%s: buildah=%s kiln=%s" % (k, json.dumps(rv), json.dumps(cv)))
    for k in ("architecture", "os"):
        if ref.get(k) != cand.get(k):
            diffs.append("%s: buildah=%s kiln=%s" % (k, ref.get(k), cand.get(k)))
    return diffs


BUILDAH_RUN_ARTIFACTS = {"etc/hostname", "etc/hosts", "etc/resolv.conf", "run"}


def buildah_artifact(p, r):
    """buildah 1.28 leaves the empty mount points it creates for RUN
    (/etc/hostname, /etc/hosts, /etc/resolv.conf, /run) in the image; docker
    (both builders) and newer buildah do not. Ignored when kiln lacks them."""
    if p not in BUILDAH_RUN_ARTIFACTS:
        return False
    return r["type"] == "dir" or (r["type"] == "file" and r.get("size") == 0)


def compare_fs(ref, cand, skips, fail_extra):
    skip_entries = [p for p, a in skips if a is None]
    skip_attrs = {(p, a) for p, a in skips if a is not None}

    def skipped(p):
        return any(p == s or p.startswith(s + "/") for s in skip_entries)

    diffs = []
    for p in sorted(set(ref) | set(cand)):
        if skipped(p):
            continue
        r, c = ref.get(p), cand.get(p)
        if r is None:
            if fail_extra:
                diffs.append("/%s: extra in kiln (%s)" % (p, c["type"]))
            else:
                diffs.append("/%s: extra in kiln (%s) [informative]" % (p, c["type"]))
            continue
        if c is None and buildah_artifact(p, r):
            continue
        if c is None:
            diffs.append("/%s: missing in kiln (%s)" % (p, r["type"]))
            continue
        for k in sorted(set(r) | set(c)):
            if (p, k) in skip_attrs:
                continue
            if r.get(k) != c.get(k):
                diffs.append("/%s %s: buildah=%s kiln=%s" % (p, k, r.get(k), c.get(k)))
    return diffs


def collapse(s):
    return re.sub(r"\s+", " ", s)


def first_error(err):
    lines = [l.strip() for l in err.splitlines() if l.strip()]
    if lines and (lines[0].startswith("kiln crashed") or lines[0].startswith("kiln timed out")):
        return lines[0][:300]
    for l in lines:
        if re.search(r"error|Error|ERROR|failed|not found|no such", l):
            return l[:300]
    return (lines[-1] if lines else "(no stderr)")[:300]



# ---------------------------------------------------------------- classification
# Each non-agreeing case is explained line by line (every differing key, or the
# failure message) with these rules; a rule applies only when its regex matches,
# so a changed kiln or buildah result falls back to "unexplained".
BUG = "suspected kiln bug"
BK = "documented difference (kiln follows BuildKit)"
B128 = "buildah 1.28.2 behaviour (kiln matches Docker/BuildKit)"
FEATURE = "no reference: buildah 1.28.2 lacks the feature"
UNEXPLAINED = "unexplained"
RANK = {BUG: 0, UNEXPLAINED: 1, BK: 2, B128: 3, FEATURE: 4}

RULES = [
    # (case indexes or None for any, regex on a diff line / failure text, category, explanation)
    ({37}, r"^/env-contents\.txt size", BUG, "RUN gets HOME=/ for root instead of /root (from /etc/passwd)"),
    ({53}, r"^/(subdir/|file-)", BUG,
     "a later source of the same COPY is written THROUGH a symlink that an earlier source created in the destination"),
    ({105, 106, 107, 108, 154, 155}, r"extra in kiln", BK,
     ".dockerignore '!' exception with a wildcard re-includes paths under an excluded directory: current BuildKit (fsutil walks into the "
     "directory unless every exception is a plain prefix) keeps them; the classic builder, buildah 1.28 and docker 20.10's BuildKit 0.8 "
     "(checked in the lab) drop them"),
    ({55}, r"kiln succeeded but the build must fail", BK,
     "'!*/sub1*' re-includes subdir/sub1.txt under the excluded subdir, so current BuildKit sends subdir and `COPY subdir` succeeds; "
     "the classic builder and docker 20.10's BuildKit 0.8 (checked in the lab) drop it and fail"),
    ({148, 149}, r"^/folder: extra in kiln \(dir\)", BUG,
     ".dockerignore: an excluded directory with no re-included content is still sent (as an empty dir) because an exception pattern could have matched under it"),
    ({166}, r"^/base2/2\.txt: missing in kiln", B128,
     "buildah 1.28 lets writes to a rw bind mount of another stage leak into that stage; BuildKit discards them"),
    ({171}, r"^/1a\.txt (uid|gid)", B128,
     "buildah 1.28 expands a build arg in a stage before the stage's ARG declares it; BuildKit does not"),
    ({170}, r"^/volume[abc] (uid|gid)", BK,
     "VOLUME does not freeze the path for later RUN steps (BuildKit; test_using_volumes BuildKit variant); buildah 1.28 has no --compat-volumes=false"),
    ({33, 34, 170}, r"^/var/www", BK, "VOLUME does not freeze the path for later RUN steps (BuildKit)"),
    ({179}, r"^/(dev|proc|sys): missing in kiln", BK,
     "classic variant (compat_layer_omissions) omits /dev /proc /sys, as kiln does; buildah 1.28 cannot omit them"),
    ({178, 180}, r"^/(dev|proc|sys): missing in kiln", BUG,
     "RUN in a FROM scratch stage: kiln drops the /dev /proc /sys mount points; BuildKit keeps them (corpus README, compat_layer_omissions)"),
    ({153, 178, 179, 180}, r"^/(etc|tmp|subdirectory)(/\S*)?: missing in kiln", B128,
     "buildah 1.28 leaves the mount-point stubs it created for RUN (/etc, mount targets); BuildKit removes them"),
    ({52}, r"kiln succeeded but the build must fail", BK,
     "BuildKit allows a COPY wildcard that matches nothing (AllowEmptyWildcard); classic fails"),
    (None, r"stderr does not match .*not found \(it is excluded by \.dockerignore\)", BK,
     "fails at the expected step, but with BuildKit's wording ('\"/x\": not found') which the classic-builder regex does not accept"),
    ({143, 144, 150}, r'"/(folder1|subdir/subdir1)": not found \(it is excluded', BUG,
     ".dockerignore: a directory that is excluded but has '!'-re-included content is 'not found' as an explicit COPY/ADD source (and skipped by wildcards)"),
    ({160, 161}, r"cannot copy .* onto directory", BK,
     "BuildKit refuses to replace an existing directory with a non-directory (fsutil: 'cannot replace to directory ... with file'); the classic builder replaces it"),
    (None, r"kiln crashed", BUG, "kiln crashes (SIGILL, Swift runtime trap) on COPY --parents when a directory source contains a subdirectory"),
    (None, r"^fs_skip path missing in kiln: /parents", BUG,
     "COPY --parents: a directory source loses its own name (./x/y/ -> /p/x/b.txt, not /p/x/y/b.txt; ./x/* flattens x/y/ and x/z/ into /p/x/) and the /./ pivot is ignored"),
    (None, r"^fs_skip path missing in kiln", UNEXPLAINED, "kiln image lacks a path the upstream reference has"),
    (None, r"only supports the --ch", FEATURE, "COPY/ADD --exclude / --parents not supported by buildah 1.28"),
    (None, r'"/<<', FEATURE, "COPY heredoc not supported by buildah 1.28"),
    ({1}, r"matched nothing", FEATURE, "buildah 1.28 does not handle the escaped glob '[[]'"),
    ({176}, r"e/\*\*/\*\*/", FEATURE, "buildah 1.28 does not handle '**' globs in COPY"),
    ({167}, r"imagebuilder|heredoc|<<", FEATURE, "buildah 1.28 heredoc handling"),
]


def classify(res, lines):
    cats = []
    for ln in lines:
        m = re.search(r" mtime: buildah=(\d+) kiln=(\d+)$", ln)
        if m and int(m.group(1)) - int(m.group(2)) == 1:
            cats.append((B128, "buildah 1.28 rounds sub-second mtimes to the nearest second; Docker's archive code and kiln truncate"))
            continue
        for idxs, rx, cat, expl in RULES:
            if (idxs is None or res["index"] in idxs) and re.search(rx, ln):
                cats.append((cat, expl))
                break
        else:
            cats.append((UNEXPLAINED, ln[:160]))
    if not cats:
        return
    worst = min(cats, key=lambda ce: RANK[ce[0]])[0]
    expl = []
    for cat, e in cats:
        tag = "%s: %s" % (cat, e)
        if tag not in expl:
            expl.append(tag)
    res["category"] = worst
    res["explanation"] = " || ".join(expl[:4])

# ---------------------------------------------------------------- one case
def run_case(a, c):
    idx = int(c["index"])
    res = {"index": idx, "name": c["name"], "verdict": "", "reason": "", "na": False}
    if c.get("transient_mounts"):
        res.update(verdict="n/a", reason="n/a: buildah-only feature (transient mounts)", na=True)
        return res
    cdir = os.path.join(a.work, "case%03d" % idx)
    ctx = os.path.join(cdir, "ctx")
    try:
        df, skip = setup_context(c, ctx)
    except Exception as e:  # noqa
        res.update(verdict="skipped", reason="skipped: context setup failed: %s" % e)
        return res
    if skip:
        res.update(verdict="skipped", reason=skip)
        return res
    ktar, btar = os.path.join(cdir, "kiln.tar"), os.path.join(cdir, "buildah.tar")
    for p in (ktar, btar, os.path.join(cdir, "diff.txt")):
        if os.path.exists(p):
            os.unlink(p)
    kcmd, (krc, kout, kerr, kt) = build_kiln(a, c, ctx, df, ktar)
    bcmd, (brc, bout, berr, bt) = build_buildah(a, c, ctx, df, btar)
    with open(os.path.join(cdir, "kiln.log"), "w") as f:
        f.write(" ".join(kcmd) + "\n--- stdout\n" + kout + "\n--- stderr\n" + kerr)
    with open(os.path.join(cdir, "buildah.log"), "w") as f:
        f.write(" ".join(bcmd) + "\n--- stdout\n" + bout + "\n--- stderr\n" + berr)
    res["times"] = "%.1f/%.1f" % (kt, bt)
    if krc >= 128 or krc < 0:
        kerr = "kiln crashed (exit %d%s) after: %s\n" % (
            krc, ", SIGILL: Swift runtime trap" if krc in (132, -4) else "",
            ([l for l in kerr.splitlines() if l.strip()] or ["(no output)"])[-1].strip()) + kerr
    elif krc == 124:
        kerr = "kiln timed out after %ss\n" % a.timeout + kerr
    fail_at = int(c["should_fail_at"] or 0)
    if fail_at > 0:
        if krc == 0:
            res.update(verdict="differ", reason="kiln succeeded but the build must fail (line %d)" % fail_at)
        elif c["failure_regex"] and not re.search(c["failure_regex"], collapse(kerr + " " + kout)):
            res.update(verdict="differ", reason="kiln failed but stderr does not match /%s/: %s"
                       % (c["failure_regex"], first_error(kerr)))
        elif brc == 0:
            res.update(verdict="both-fail-as-expected",
                       reason="kiln fails as expected (%s); note: buildah 1.28.2 built it" % first_error(kerr))
        else:
            res.update(verdict="both-fail-as-expected", reason=first_error(kerr))
    elif krc != 0 and brc != 0:
        res.update(verdict="buildah-fails",
                   reason="both fail; kiln: %s | buildah: %s" % (first_error(kerr), first_error(berr)))
    elif krc != 0:
        res.update(verdict="kiln-fails", reason=first_error(kerr))
    elif brc != 0:
        res.update(verdict="buildah-fails", reason=first_error(berr))
        # No reference image. The upstream fs_skip keys name paths that the
        # docker reference image has; check at least that kiln's image has them.
        want = [pth for pth, attr in parse_skips(jcell(c, "fs_skip", [])) if attr == "mtime"]
        if want:
            try:
                _, ktree = read_archive(ktar)
                miss = [pth for pth in want if pth not in ktree]
                res["lines"] = ["fs_skip path missing in kiln: /" + m for m in miss]
                res["reason"] += " | kiln image checked against the %d paths upstream's fs_skip names: %s" % (
                    len(want), ("MISSING /" + ", /".join(miss)) if miss else "all present")
                if miss:
                    res["lines"] = [res["reason"]] + res["lines"]
                    res["kiln_tree"] = sorted(ktree)[:40]
            except Exception as e:  # noqa
                res["reason"] += " | could not read kiln image: %r" % e
    else:
        try:
            bcfg, btree = read_archive(btar)
            kcfg, ktree = read_archive(ktar)
        except Exception as e:  # noqa
            res.update(verdict="kiln-fails", reason="could not read images: %r" % e)
            return res
        skips = parse_skips(jcell(c, "fs_skip", [])) + GLOBAL_SKIP
        diffs = compare_config(bcfg, kcfg)
        # The corpus's compat_scratch_config switch: upstream makes buildah start a FROM scratch image from an
        # empty config (classic reference) or from BuildKit's, whose WorkingDir is "/". kiln always does the
        # latter and buildah 1.28 has no switch, so the one key the switch governs is compared as switched.
        if SCRATCH_WORKDIR in diffs:
            diffs.remove(SCRATCH_WORKDIR)
            res["compat"] = True
        fdiffs = compare_fs(btree, ktree, skips, truthy(c, "fail_on_extra_fs_content"))
        info = [d for d in fdiffs if d.endswith("[informative]")]
        real = diffs + [d for d in fdiffs if not d.endswith("[informative]")]
        with open(os.path.join(cdir, "diff.txt"), "w") as f:
            f.write("\n".join(diffs + fdiffs) + "\n")
        res["lines"] = real
        if real:
            res.update(verdict="differ", reason="; ".join(real[:4]) + (" (+%d more)" % (len(real) - 4) if len(real) > 4 else ""))
        else:
            res.update(verdict="agree", reason=("extra files in kiln ignored: " + "; ".join(info[:3])) if info else "")
    if res["verdict"] not in ("agree", "both-fail-as-expected"):
        classify(res, ([res["reason"]] if res["verdict"] != "differ" else []) + (res.get("lines") or []) or [res["reason"]])
    if truthy(c, "without_docker"):
        res["na"] = True
        res["reason"] = "n/a (without_docker upstream, no docker reference); kiln vs buildah: %s%s" % (
            res["verdict"], (": " + res["reason"]) if res["reason"] else "")
        res["verdict"] = "n/a"
    if not a.keep:
        for p in (ktar, btar):
            if os.path.exists(p):
                os.unlink(p)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kiln", default=os.path.join(REPO, ".build/release/kiln"))
    ap.add_argument("--cases", default="")
    ap.add_argument("--out-prefix", default=os.path.join(REPO, "bench/results/buildah-conformance-" + time.strftime("%Y-%m-%d", time.gmtime())))
    ap.add_argument("--work", default="/dev/shm/bconf")
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--keep", action="store_true", help="keep the image tars")
    a = ap.parse_args()
    a.kiln = os.path.abspath(a.kiln)
    os.makedirs(a.work, exist_ok=True)
    cases = read_cases()
    if a.cases:
        want = {int(x) for x in a.cases.split(",") if x}
        cases = [c for c in cases if int(c["index"]) in want]
    results = []
    tsv = a.out_prefix + ".tsv"
    os.makedirs(os.path.dirname(tsv), exist_ok=True)
    with open(tsv, "w") as f:
        f.write("index\tname\tverdict\treason\n")
        for c in cases:
            r = run_case(a, c)
            results.append(r)
            log("%3d %-45s %-22s %s" % (r["index"], r["name"][:45], r["verdict"], r["reason"][:200]))
            f.write("%d\t%s\t%s\t%s\n" % (r["index"], r["name"], r["verdict"], full_reason(r).replace("\t", " ").replace("\n", " ")))
            f.flush()
    write_summary(a, results)


def full_reason(r):
    if r.get("category"):
        return "[%s] %s | raw: %s" % (r["category"], r["explanation"], r["reason"])
    return r["reason"]


def write_summary(a, results):
    counts = {}
    for r in results:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    scored = [r for r in results if r["verdict"] not in ("skipped", "n/a")]
    good = [r for r in scored if r["verdict"] in ("agree", "both-fail-as-expected")]
    pct = 100.0 * len(good) / len(scored) if scored else 0.0
    noref = [r for r in scored if r.get("category") == FEATURE]
    explained = [r for r in scored if r.get("category") in (BK, B128)]
    denom2 = len(scored) - len(noref)
    pct2 = 100.0 * (len(good) + len(explained)) / denom2 if denom2 else 0.0
    pct3 = 100.0 * len(good) / denom2 if denom2 else 0.0
    lines = ["buildah conformance corpus (%s): kiln vs buildah %s" % (CORPUS, buildah_version()),
             "date: %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
             "kiln: %s" % a.kiln,
             "cases run: %d of 187" % len(results), "", "verdicts:"]
    for k in sorted(counts):
        lines.append("  %-24s %d" % (k, counts[k]))
    lines += ["",
              "agreement (strict, as specified) = (agree + both-fail-as-expected) / (cases not skipped or n/a)"
              " = %d / %d = %.1f %%" % (len(good), len(scored), pct),
              "agreement excluding cases buildah 1.28.2 cannot build (no reference) = %d / %d = %.1f %%"
              % (len(good), denom2, pct3),
              "agreement also counting documented BuildKit-vs-classic differences and buildah-1.28 deviations"
              " as agreeing = %d / %d = %.1f %%" % (len(good) + len(explained), denom2, pct2), ""]
    compat = [r for r in scored if r.get("compat")]
    lines += ["%d cases start FROM scratch: kiln's WorkingDir \"/\" (BuildKit's empty image) against buildah 1.28's empty one is"
              " compared as the corpus's compat_scratch_config switch would set buildah; %d of them agree otherwise." % (
                  len(compat), len([r for r in compat if r["verdict"] == "agree"])), ""]
    lines.append("Non-agreeing cases by cause (category: explanation -> cases):")
    groups = {}
    for r in scored:
        if r["verdict"] in ("agree", "both-fail-as-expected"):
            continue
        for part in (r.get("explanation") or ("%s: %s" % (UNEXPLAINED, r["reason"]))).split(" || "):
            groups.setdefault(part, []).append(r)
    for key in sorted(groups, key=lambda k: (RANK.get(k.split(":")[0], 9), -len(groups[k]))):
        rs = groups[key]
        lines.append("  [%d] %s" % (len(rs), key))
        for r in rs:
            lines.append("        %3d %-44s %-14s %s" % (r["index"], r["name"][:44], r["verdict"], r["reason"][:150]))
    lines += ["", "Agreeing with a note:"]
    for r in scored:
        if r["verdict"] in ("agree", "both-fail-as-expected") and r["reason"]:
            lines.append("  %3d %-44s %-22s %s" % (r["index"], r["name"][:44], r["verdict"], r["reason"][:160]))
    lines += ["", "Skipped / n/a (excluded from the denominator):"]
    for r in results:
        if r["verdict"] in ("skipped", "n/a"):
            lines.append("  %3d %-44s %s" % (r["index"], r["name"][:44], r["reason"][:200]))
    lines += ["", "Notes on method and caveats:",
              "  * buildah 1.28.2 is the only reference available offline (no docker). Where it lacks a feature the case is",
              "    'buildah-fails'; kiln's image is then checked only against the paths upstream's fs_skip names.",
              "  * Context: the shared corpus copy is read-only and has its 9 symlinks stored as plain files; the harness",
              "    recreates the symlinks (README list) and gives dirs 0755 / files 0644 (0755 if executable), as a git checkout.",
              "  * Ignored as buildah-1.28 artifacts when kiln lacks them: empty /etc/hostname, /etc/hosts, /etc/resolv.conf",
              "    and /run that buildah 1.28 leaves behind after RUN (docker and newer buildah do not).",
              "  * buildah 1.28 rounds sub-second mtimes (x.5 s and up -> next second); kiln truncates like Docker's archive code.",
              "  * 'agree' is agreement with buildah 1.28 only. Case 106 agrees although both builders probably differ from",
              "    Docker (a dir excluded by .dockerignore but with a '!'-re-included child is skipped by COPY *), and case 91",
              "    passes the fs_skip path check although kiln ignores the /./ pivot of COPY --parents.",
              "  * Categories: 'suspected kiln bug' = kiln differs from what Docker/BuildKit would produce; 'documented",
              "    difference' = kiln does what BuildKit does where the corpus reference is the classic builder;",
              "    'buildah 1.28.2 behaviour' = buildah 1.28 deviates from Docker/BuildKit and kiln does not."]
    lines += ["", "Base images: " + " ".join(l.strip() for l in __doc__.split("Base image mapping")[1].split("Needs")[0].splitlines() if l.strip()), "",
              "Commands (per case; CTX = fresh context dir, DF = its Dockerfile):",
              "  kiln build --root WORK/kroot --no-cache --network host --progress plain -f DF -o type=docker,dest=WORK/caseNNN/kiln.tar [--build-arg K=V ...] CTX",
              "  buildah --root WORK/broot --runroot WORK/brun --storage-driver vfs bud --layers=false --no-cache --network host --isolation chroot --format docker -f DF -t localhost/bconf:caseN [--build-arg K=V ...] CTX",
              "  buildah ... push localhost/bconf:caseN docker-archive:WORK/caseNNN/buildah.tar ; buildah ... rmi -f localhost/bconf:caseN",
              "  both archives are read with Python's tarfile: layers applied in memory (whiteouts honoured), config compared key by key",
              "Harness: python3 %s --out-prefix %s (WORK=%s, timeout %ss per build)" % (os.path.relpath(__file__, REPO) if __file__.startswith(REPO) else __file__, a.out_prefix, a.work, a.timeout)]
    with open(a.out_prefix + ".txt", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def buildah_version():
    try:
        return subprocess.run(["buildah", "--version"], stdout=subprocess.PIPE).stdout.decode().strip()
    except OSError:
        return "buildah (version unknown)"


if __name__ == "__main__":
    main()
