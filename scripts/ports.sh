# shellcheck shell=bash
# Shell functions for picking free TCP ports on 127.0.0.1; source this file.

# listening_ports prints the local TCP ports in the LISTEN state, from the
# kernel's table, without connecting to anything.
listening_ports() {
	if command -v ss >/dev/null 2>&1; then
		ss -Htln | awk '{ n = split($4, parts, ":"); print parts[n] }' | sort -u
		return 0
	fi

	# /proc/net/tcp columns: sl local_address rem_address st ...; state 0A is
	# LISTEN and the port is the hexadecimal part after the colon.
	local local_address state
	while read -r _ local_address _ state _; do
		if [[ $state == 0A ]]; then
			echo $((16#${local_address##*:}))
		fi
	done < <(tail -n +2 /proc/net/tcp)
}

# pick_free_port prints a port that is free together with the next COUNT-1
# ports (default 1), from 20000-29999, below the kernel's range for the local
# ports of outgoing connections.
pick_free_port() {
	local count=${1:-1} used port offset taken
	used=$(listening_ports)
	for _ in $(seq 1 50); do
		port=$((20000 + RANDOM % 9990))
		taken=0
		for ((offset = 0; offset < count; offset++)); do
			if grep -qx -- "$((port + offset))" <<<"$used"; then
				taken=1
			fi
		done
		if ((taken == 0)); then
			echo "$port"
			return 0
		fi
	done
	echo "error: no free TCP port found between 20000 and 29999" >&2
	return 1
}
