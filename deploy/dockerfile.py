#!/usr/bin/env python3
"""Reads deploy/Dockerfile as `docker build` would, for deploy/container-check.sh.

    python3 deploy/dockerfile.py DOCKERFILE CONTEXT ROOT

Finds the build stage (the one the final stage's `COPY --from=` names), copies
into ROOT exactly what its COPY lines take from the build context CONTEXT
(minus what CONTEXT/.dockerignore excludes, with Docker's pattern rules), each
to its destination under the stage's WORKDIR (ROOT stands for `/`), and prints
shell assignments (to `eval`) describing the rest:

    build_image    the build stage's base image
    build_workdir  its WORKDIR
    build_env      its ENV settings (array of NAME=value)
    build_run      its RUN commands (array of shell commands)
    artifact_src   what the final stage copies from it (absolute path)
    artifact_dst   where to (absolute path)
    run_user       the final stage's USER (uid[:gid])
    run_env        the final stage's ENV settings (array)
    run_cmd        ENTRYPOINT followed by CMD (array)

Only what a small multi-stage Dockerfile uses is understood (FROM; in the
build stage WORKDIR, ENV, COPY, RUN; in the final stage one COPY --from, RUN,
USER, ENV, EXPOSE, LABEL, ENTRYPOINT, CMD): anything else fails loudly rather
than being skipped, so the check cannot quietly drift from the file.
"""

import glob
import json
import os
import re
import shlex
import shutil
import sys


def fail(message):
    sys.exit(f"dockerfile.py: {message}")


def instructions(path):
    """(line number, INSTRUCTION, arguments) with continuations joined."""
    joined, start, out = "", None, []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            stripped = line.strip()
            if not joined and (not stripped or stripped.startswith("#")):
                continue
            if joined and stripped.startswith("#"):
                continue  # a comment inside a continued instruction
            if start is None:
                start = number
            if stripped.endswith("\\"):
                joined += stripped[:-1] + " "
                continue
            joined += stripped
            word, _, rest = joined.partition(" ")
            out.append((start, word.upper(), rest.strip()))
            joined, start = "", None
    if joined:
        fail(f"{path}: the file ends inside a continued line")
    return out


def words(args):
    """A JSON array (exec form) or whitespace-separated words (shell form)."""
    if args.startswith("["):
        return json.loads(args)
    return shlex.split(args)


def env_pairs(args):
    parts = shlex.split(args)
    if parts and "=" not in parts[0]:
        return [f"{parts[0]}={' '.join(parts[1:])}"]  # legacy `ENV NAME value`
    return parts


def stages(path):
    result = []
    for number, word, args in instructions(path):
        if word == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            result.append({"image": parts[0], "name": name, "steps": []})
        elif not result:
            fail(f"{path}:{number}: {word} before FROM")
        else:
            result[-1]["steps"].append((number, word, args))
    return result


def ignore_rules(context):
    """.dockerignore as (compiled pattern, is an exception) in order."""
    rules = []
    path = os.path.join(context, ".dockerignore")
    if not os.path.exists(path):
        return rules
    with open(path, encoding="utf-8") as f:
        for line in f:
            pattern = line.strip()
            if not pattern or pattern.startswith("#"):
                continue
            exception = pattern.startswith("!")
            pattern = os.path.normpath(pattern.lstrip("!").strip()).lstrip("/")
            rules.append((re.compile(pattern_regex(pattern)), exception))
    return rules


def pattern_regex(pattern):
    """Docker's .dockerignore pattern (Go's filepath.Match plus `**`) as a regex."""
    out, i = "^", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
                out += "(.*/)?"  # **/ : any number of directories, or none
            else:
                out += ".*"
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            end = pattern.index("]", i)
            out += pattern[i:end + 1]
            i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(c)
        i += 1
    return out + "$"


def excluded(rules, relative):
    """Whether a path relative to the context is excluded: the last rule that
    matches it, or one of its parent directories, decides."""
    parts = relative.split("/")
    result = False
    for regex, exception in rules:
        if any(regex.match("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            result = not exception
    return result


def copy_file(source, out):
    """Contents and mode, with a new modification time: with the source's,
    cargo would take a shared target directory's build of the same files for
    up to date and compile nothing from the copy."""
    shutil.copyfile(source, out)
    shutil.copymode(source, out)


def copy_into(context, rules, sources, destination, root, workdir, where):
    dest = destination if destination.startswith("/") else os.path.join(workdir, destination)
    dest_dir = dest.endswith("/") or len(sources) > 1
    target = os.path.join(root, os.path.normpath(dest).lstrip("/"))
    for source in sources:
        matches = sorted(glob.glob(os.path.join(context, source)))
        relatives = [os.path.relpath(m, context) for m in matches]
        relatives = [r for r in relatives if not r.startswith("..") and not excluded(rules, r)]
        if not relatives:
            fail(f"{where}: COPY {source}: not in the build context (or excluded by .dockerignore)")
        for relative in relatives:
            full = os.path.join(context, relative)
            if os.path.isdir(full):
                # A directory's contents go to the destination, as Docker does.
                for dirpath, dirnames, filenames in os.walk(full):
                    dirnames[:] = [d for d in dirnames
                                   if not excluded(rules, os.path.relpath(os.path.join(dirpath, d), context))]
                    for name in filenames:
                        file = os.path.join(dirpath, name)
                        inner = os.path.relpath(file, context)
                        if excluded(rules, inner):
                            continue
                        out = os.path.join(target, os.path.relpath(file, full))
                        os.makedirs(os.path.dirname(out), exist_ok=True)
                        copy_file(file, out)
            else:
                out = os.path.join(target, os.path.basename(relative)) if dest_dir else target
                os.makedirs(os.path.dirname(out), exist_ok=True)
                copy_file(full, out)


def main():
    if len(sys.argv) != 4:
        fail(__doc__.strip().splitlines()[2].strip())
    dockerfile, context, root = sys.argv[1:]
    all_stages = stages(dockerfile)
    final = all_stages[-1]
    rules = ignore_rules(context)

    source_stage, artifact = None, None
    run_user, run_env, entrypoint, cmd = None, [], [], []
    for number, word, args in final["steps"]:
        where = f"{dockerfile}:{number}"
        if word == "COPY" and args.startswith("--from="):
            flag, *paths = words(args)
            source_stage = flag.split("=", 1)[1]
            if len(paths) != 2 or artifact:
                fail(f"{where}: one COPY --from with one source is understood")
            artifact = paths
        elif word == "USER":
            run_user = args
        elif word == "ENV":
            run_env += env_pairs(args)
        elif word == "ENTRYPOINT":
            entrypoint = words(args)
        elif word == "CMD":
            cmd = words(args)
        elif word not in ("RUN", "EXPOSE", "LABEL"):
            fail(f"{where}: {word} in the final stage is not understood")
    build = next((s for s in all_stages if s["name"] == source_stage), None)
    if build is None:
        fail(f"{dockerfile}: the final stage copies from no stage named {source_stage!r}")

    workdir, build_env, build_run = "/", [], []
    for number, word, args in build["steps"]:
        where = f"{dockerfile}:{number}"
        if word == "WORKDIR":
            workdir = os.path.join(workdir, args)
        elif word == "ENV":
            build_env += env_pairs(args)
        elif word == "COPY":
            parts = words(args)
            if any(p.startswith("--") for p in parts):
                fail(f"{where}: COPY flags are not understood in the build stage")
            copy_into(context, rules, parts[:-1], parts[-1], root, workdir, where)
        elif word == "RUN":
            build_run.append(" ".join(words(args)) if args.startswith("[") else args)
        else:
            fail(f"{where}: {word} in the build stage is not understood")
    artifact_src = artifact[0] if artifact[0].startswith("/") else os.path.join(workdir, artifact[0])

    def array(values):
        return "(" + " ".join(shlex.quote(v) for v in values) + ")"

    print(f"build_image={shlex.quote(build['image'])}")
    print(f"build_workdir={shlex.quote(workdir)}")
    print(f"build_env={array(build_env)}")
    print(f"build_run={array(build_run)}")
    print(f"artifact_src={shlex.quote(artifact_src)}")
    print(f"artifact_dst={shlex.quote(artifact[1])}")
    print(f"run_user={shlex.quote(run_user or '0')}")
    print(f"run_env={array(run_env)}")
    print(f"run_cmd={array(entrypoint + cmd)}")


if __name__ == "__main__":
    main()
