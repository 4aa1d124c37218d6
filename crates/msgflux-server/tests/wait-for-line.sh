# Sourced by the gateway's test scripts. `wait_for_line WHAT LOG PID SED`
# prints what the sed script `SED` (run with -n) extracts from LOG once the
# process PID has written it, waiting up to 10 s; it fails, showing the log,
# if PID exits first or the time runs out.
wait_for_line() {
    local what=$1 log=$2 pid=$3 script=$4 found
    for _ in $(seq 1 200); do
        found=$(sed -n "$script" "$log")
        if [ -n "$found" ]; then
            echo "$found"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "$what did not start" >&2
    cat "$log" >&2
    return 1
}
