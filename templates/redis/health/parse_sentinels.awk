# Turn the output of `redis-cli sentinel sentinels {{ master_set }}` (field names and values on
# alternate lines) into `sentinel known-sentinel` lines for sentinel.conf (st2k8s).
NR % 2 == 1 { field = $0; next }
field == "ip" { ip = $0 }
field == "port" { port = $0 }
field == "runid" { printf "\nsentinel known-sentinel {{ master_set }} %s %s %s", ip, port, $0 }
