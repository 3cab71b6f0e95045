"""The e2e tests share their runfiles (agent, plugins, guest program) and tags."""

# Paths of the runfiles, as environment variables the tests read (agent_util.h: Runfile).
E2E_ENV = {
    "AGENT": "$(rootpath //runtime/agent:vaccel-agent)",
    "PLUGIN_SHM": "$(rootpath //backends/remote:libvaccel-shm.so)",
    "PLUGIN_BLAS": "$(rootpath //backends/blas:libvaccel-blas.so)",
    "PLUGIN_EXEC": "$(rootpath //backends/exec:libvaccel-exec.so)",
    "PLUGIN_NOOP": "$(rootpath //backends/noop:libvaccel-noop.so)",
    "TESTLIB": "$(rootpath //examples:libmytestlib.so)",
    "GUEST_PROG": "$(rootpath :guest_prog)",
}

E2E_DATA = [
    ":guest_prog",
    "//runtime/agent:vaccel-agent",
    "//backends/remote:libvaccel-shm.so",
    "//backends/blas:libvaccel-blas.so",
    "//backends/exec:libvaccel-exec.so",
    "//backends/noop:libvaccel-noop.so",
    "//examples:libmytestlib.so",
]

def e2e_test(name, deps = [], data = [], env = {}, srcs = []):
    """A medium, exclusive gtest NAME.cc with a real agent and guests in its runfiles.

    exclusive: agent pollers and guests busy-poll, and this machine has two cores.
    """
    native.cc_test(
        name = name,
        size = "medium",
        srcs = [name + ".cc"] + srcs,
        data = E2E_DATA + data,
        env = dict(E2E_ENV, **env),
        tags = ["exclusive"],
        deps = [":agent_util", "//third_party/system:gtest_main"] + deps,
    )
