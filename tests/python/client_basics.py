"""The real `cwsandbox` client against a local gateway, as a developer would use it.

Run by gateway/tests/python_client_api.rs with CWSANDBOX_BASE_URL and CWSANDBOX_API_KEY
set, against a gateway with runners `local` (profiles `web`, the default, and
`offline`) and `gpu` (declared with an H100). Every check raises on failure; the
script prints what it saw.
"""

import sys

import cwsandbox
from cwsandbox import Sandbox


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {message}")


# Discovery, with filters, paging and views.
runners = cwsandbox.list_runners(include_resources=True)
ids = sorted(r.runner_id for r in runners)
check(ids == ["gpu", "local"], f"every runner is listed: {ids}")
gpu = cwsandbox.list_runners(gpu_type="H100")
check([r.runner_id for r in gpu] == ["gpu"], "a GPU filter narrows the runners")
check(cwsandbox.list_runners(gpu_type="B200") == [], "a filter nothing matches lists none")
offline = cwsandbox.list_runners(profile_name="offline")
check([r.runner_id for r in offline] == ["local"], "a profile filter narrows the runners")
profiles = sorted((p.profile_name, p.runner_id) for p in cwsandbox.list_profiles())
check(("offline", "local") in profiles and ("web", "local") in profiles, f"profiles: {profiles}")
runner = cwsandbox.get_runner("local")
check(runner.runner_id == "local" and runner.healthy, f"one runner: {runner}")
profile = cwsandbox.get_profile("offline", runner_id="local")
check(profile.profile_name == "offline", f"one profile: {profile}")

# Not-found errors come as the client's own exceptions.
try:
    cwsandbox.get_runner("no-such-runner")
    check(False, "an unknown runner raises")
except cwsandbox.RunnerNotFoundError as error:
    check(True, f"an unknown runner raises RunnerNotFoundError: {error}")
try:
    cwsandbox.get_profile("no-such-profile")
    check(False, "an unknown profile raises")
except cwsandbox.ProfileNotFoundError as error:
    check(True, f"an unknown profile raises ProfileNotFoundError: {error}")
try:
    Sandbox.from_id("00000000-0000-0000-0000-000000000000").result()
    check(False, "an unknown sandbox raises")
except cwsandbox.SandboxNotFoundError as error:
    check(True, f"an unknown sandbox raises SandboxNotFoundError: {error}")

# A start no runner can take is refused with the client's exception and the reason.
try:
    Sandbox.run("true", container_image="debian:12", profile_names=["no-such-profile"]).wait()
    check(False, "a start on an unknown profile is refused")
except cwsandbox.SandboxError as error:
    check("does not offer profile no-such-profile" in str(error), f"refused: {error}")

# Run, wait, list, exec, logs, stop.
sandbox = Sandbox.run(
    "sh",
    "-c",
    "echo booted; echo ready; sleep 600",
    container_image="debian:12",
    tags=["python-client"],
)
sandbox.wait()
check(sandbox.status == "running", f"the sandbox runs: {sandbox.status}")
listed = Sandbox.list(tags=["python-client"]).result()
check([s.sandbox_id for s in listed] == [sandbox.sandbox_id], "it is listed by its tag")
print(f"sandbox {sandbox.sandbox_id}")

result = sandbox.exec(["sh", "-c", "echo out; echo err >&2; exit 3"]).result()
check(
    (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n"),
    f"exec runs in the sandbox and reports output and exit: {result}",
)
lines = list(sandbox.stream_logs(tail_lines=10))
check(lines == ["booted\n", "ready\n"], f"the log: {lines}")
check(list(sandbox.stream_logs(tail_lines=1)) == ["ready\n"], "the log's tail")
stamped = list(sandbox.stream_logs(timestamps=True))
check(
    len(stamped) == 2 and stamped[0].endswith(" booted\n") and stamped[0][:4].isdigit(),
    f"each line starts with its time: {stamped}",
)
followed = sandbox.stream_logs(follow=True)
check([next(followed), next(followed)] == ["booted\n", "ready\n"], "a followed log")

# Input streamed to a command, its output streamed back before the input ends.
process = sandbox.exec(
    ["sh", "-c", 'while read line; do echo "got $line"; done; echo eof'], stdin=True
)
process.stdin.write(b"one\n").result()
first = next(iter(process.stdout))
check("got one" in first, f"output comes while input is still open: {first!r}")
process.stdin.write(b"two\n").result()
process.stdin.close().result()
result = process.result()
check(
    (result.returncode, result.stdout) == (0, "got one\ngot two\neof\n"),
    f"closing stdin ends the command's input: {result}",
)

# Files in the sandbox's own tree: written, read back, seen by commands; errors as the
# client's own exception.
contents = bytes(range(256)) * 1000
sandbox.write_file("notes/data.bin", contents).result()
check(sandbox.read_file("notes/data.bin").result() == contents, "a file reads back as written")
listed = sandbox.exec(["wc", "-c", "notes/data.bin"]).result().stdout
check(listed.split()[0] == "256000", f"commands see the written file: {listed!r}")
for path, words in [("missing.txt", "does not exist"), ("notes", "is a directory")]:
    try:
        sandbox.read_file(path).result()
        check(False, f"reading {path} is refused")
    except cwsandbox.SandboxFileError as error:
        check(words in str(error), f"reading {path}: {error}")
big = b"x" * (40 * 1024 * 1024)
sandbox.write_file("big.bin", big).result()
check(sandbox.read_file("big.bin").result() == big, "a file over one call's 32 MiB streams")

# A shell on a terminal of the asked size, which follows resizes.
def read_until(chunks, needle, seen=b""):
    for chunk in chunks:
        seen += chunk
        if needle in seen:
            return seen
    raise AssertionError(f"{needle!r} never came: {seen!r}")


session = sandbox.shell(["/bin/sh"], width=100, height=30)
output = iter(session.output)
session.stdin.writeline("tty; stty size").result()
seen = read_until(output, b"30 100")
check(b"/dev/pts/" in seen, f"the shell has a terminal: {seen!r}")
session.resize(120, 40)
session.stdin.writeline("stty size; exit 4").result()
seen = read_until(output, b"40 120")
for chunk in output:
    seen += chunk
check(session.wait() == 4, f"the shell's exit code: {session.returncode}")

sandbox.stop().result()
check(sandbox.status in ("terminated", "completed"), f"stopped: {sandbox.status}")
