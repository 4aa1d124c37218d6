# Sourced by every script that installs a tool from a package registry (PyPI,
# npm, Debian). `from_registry LABEL COMMAND...` runs COMMAND with bounded
# network waits, each attempt under a time limit, up to 3 attempts, and says
# on stderr what it is installing. An install whose connection stalls would
# otherwise wait forever: npm has no overall deadline, and CI once spent its
# whole 90 minutes on one silent install.
#
# Each tool's own timeouts and retries go in through its environment, so the
# scripts' command lines stay the tools' ordinary ones.
export PIP_DEFAULT_TIMEOUT=${PIP_DEFAULT_TIMEOUT:-30}
export PIP_RETRIES=${PIP_RETRIES:-3}
export PIP_DISABLE_PIP_VERSION_CHECK=1
export npm_config_fetch_timeout=${npm_config_fetch_timeout:-60000}
export npm_config_fetch_retries=${npm_config_fetch_retries:-3}
export npm_config_fetch_retry_maxtimeout=${npm_config_fetch_retry_maxtimeout:-20000}
export npm_config_update_notifier=false
export npm_config_audit=false
export npm_config_fund=false

# Seconds one attempt may take; a cold Chromium from Debian is the largest, about a minute.
registry_attempt_limit=${REGISTRY_ATTEMPT_LIMIT:-420}

from_registry() {
    local label=$1 attempt started
    shift
    for attempt in 1 2 3; do
        started=$SECONDS
        echo "installing $label from its registry (attempt $attempt)" >&2
        if timeout --kill-after=15 "$registry_attempt_limit" "$@"; then
            return 0
        fi
        echo "installing $label failed or took over ${registry_attempt_limit} s (after $((SECONDS - started)) s)" >&2
        [ "$attempt" = 3 ] || sleep $((attempt * 5))
    done
    echo "giving up on $label after 3 attempts" >&2
    return 1
}

# `debian_package LABEL PACKAGE...`: Debian's packages, after a fresh package
# list, each step through from_registry with apt's own network limits.
debian_package() {
    local label=$1 network=(-qq -o Acquire::Retries=3 -o Acquire::http::Timeout=30)
    shift
    from_registry "Debian's package lists" apt-get update "${network[@]}" &&
        from_registry "$label (Debian)" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y --no-install-recommends "${network[@]}" "$@" >/dev/null
}
