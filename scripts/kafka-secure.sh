#!/usr/bin/env bash
# A real single-node Kafka (KRaft) broker with TLS and SASL listeners, for the security tests and for trying the
# runtime's security.protocol settings by hand. Reuses the functions of scripts/kafka.sh (jars, logging, readiness).
#
# Commands (run from anywhere; paths are relative to the repo root):
#   scripts/kafka-secure.sh certs   make a test CA, a broker certificate (SAN 127.0.0.1, localhost) and a client
#                                   certificate with openssl/keytool into .cache/kafka-secure/<name>/certs
#   scripts/kafka-secure.sh start   certs, then a fresh broker in the background; prints one NAME=value line per
#                                   fact on stdout when it answers (see "Output" below)
#   scripts/kafka-secure.sh stop    SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT s; removes the data (keeps certs)
#
# Listeners, all on 127.0.0.1, at consecutive ports from KAFKA_SECURE_PORT (default 19292):
#   +0 PLAINTEXT        inter-broker traffic and readiness checks only
#   +1 SSL              client certificate required (mutual TLS)
#   +2 SASL_PLAINTEXT   SASL PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
#   +3 SASL_SSL         the same mechanisms over TLS (no client certificate)
#   +4 CONTROLLER
# One SASL user for every mechanism: KAFKA_SECURE_USER / KAFKA_SECURE_PASSWORD (default connect / connect-secret);
# the SCRAM credentials are written into the metadata log by `kafka-storage format --add-scram`.
#
# Output of start (stdout):
#   KAFKA_SECURE_PLAINTEXT, KAFKA_SECURE_SSL, KAFKA_SECURE_SASL_PLAINTEXT, KAFKA_SECURE_SASL_SSL  (host:port each)
#   KAFKA_SECURE_CERTS  directory with ca.pem (trust this), client-keystore.pem (client key, encrypted, + certificate
#                       chain; its password is in client-key.password), other-ca.pem (a CA the broker does not use)
#
# Environment: KAFKA_SECURE_NAME (instance, default dev), KAFKA_SECURE_PORT, KAFKA_SECURE_USER,
# KAFKA_SECURE_PASSWORD, and KAFKA_VERSION / KAFKA_START_TIMEOUT / KAFKA_STOP_TIMEOUT / KAFKA_HEAP_OPTS as in
# scripts/kafka.sh.
# Test material only: the keys are unprotected on disk and the passwords are fixed.

# shellcheck source=scripts/kafka.sh
source "$(dirname "${BASH_SOURCE[0]}")/kafka.sh"

_secure_log() { echo "kafka-secure.sh: $*" >&2; }

_secure_layout() {
  _SECURE_DIR="$KAFKA_SH_ROOT/.cache/kafka-secure/${KAFKA_SECURE_NAME:-dev}"
  _SECURE_CERTS="$_SECURE_DIR/certs"
  _SECURE_NODE="$_SECURE_DIR/node"
  _SECURE_PORT="${KAFKA_SECURE_PORT:-19292}"
  _SECURE_USER="${KAFKA_SECURE_USER:-connect}"
  _SECURE_PASSWORD="${KAFKA_SECURE_PASSWORD:-connect-secret}"
}

# Fixed passwords of the test stores (not secrets: test material).
_SECURE_STORE_PASSWORD=broker-store-secret
_SECURE_CLIENT_KEY_PASSWORD=client-key-secret

_secure_run() {
  local log="$_SECURE_CERTS/make.log"
  if ! "$@" >>"$log" 2>&1; then
    _secure_log "failed: $1 (see $log)"; tail -n 5 "$log" >&2
    return 1
  fi
}

# _secure_ca <name> <CN>: a self-signed CA key + certificate.
_secure_ca() {
  _secure_run openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=$2" \
    -keyout "$_SECURE_CERTS/$1.key" -out "$_SECURE_CERTS/$1.pem"
}

# _secure_leaf <name> <CN> <extensions>: a key and a certificate signed by ca.
_secure_leaf() {
  local name="$1" cn="$2" ext="$3"
  printf '%s\n' "$ext" >"$_SECURE_CERTS/$name.ext"
  _secure_run openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$cn" \
    -keyout "$_SECURE_CERTS/$name.key" -out "$_SECURE_CERTS/$name.csr" || return 1
  _secure_run openssl x509 -req -sha256 -days 3650 -in "$_SECURE_CERTS/$name.csr" -CA "$_SECURE_CERTS/ca.pem" \
    -CAkey "$_SECURE_CERTS/ca.key" -CAcreateserial -extfile "$_SECURE_CERTS/$name.ext" -out "$_SECURE_CERTS/$name.pem"
}

kafka_secure_certs() {
  _secure_layout
  if [[ -f "$_SECURE_CERTS/.complete" ]]; then return 0; fi
  command -v openssl >/dev/null || { _secure_log "openssl is not installed"; return 1; }
  command -v keytool >/dev/null || { _secure_log "keytool (Java) is not installed"; return 1; }
  rm -rf "$_SECURE_CERTS"
  mkdir -p "$_SECURE_CERTS"
  _secure_ca ca "pika-connect test CA" || return 1
  _secure_ca other-ca "pika-connect untrusted test CA" || return 1
  _secure_leaf broker "127.0.0.1" $'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth' \
    || return 1
  _secure_leaf client "pika-connect" $'extendedKeyUsage=clientAuth' || return 1
  # Broker keystore: PKCS12 from openssl, converted to JKS with keytool (the broker's usual setup).
  _secure_run openssl pkcs12 -export -name broker -in "$_SECURE_CERTS/broker.pem" -inkey "$_SECURE_CERTS/broker.key" \
    -certfile "$_SECURE_CERTS/ca.pem" -passout "pass:$_SECURE_STORE_PASSWORD" -out "$_SECURE_CERTS/broker.p12" || return 1
  _secure_run keytool -importkeystore -noprompt -srckeystore "$_SECURE_CERTS/broker.p12" -srcstoretype PKCS12 \
    -srcstorepass "$_SECURE_STORE_PASSWORD" -destkeystore "$_SECURE_CERTS/broker.jks" -deststoretype JKS \
    -deststorepass "$_SECURE_STORE_PASSWORD" || return 1
  # Client keystore in Kafka's PEM layout: an encrypted PKCS#8 key followed by the certificate chain.
  _secure_run openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$_SECURE_CERTS/client.key" \
    -passout "pass:$_SECURE_CLIENT_KEY_PASSWORD" -out "$_SECURE_CERTS/client-key.enc.pem" || return 1
  cat "$_SECURE_CERTS/client-key.enc.pem" "$_SECURE_CERTS/client.pem" "$_SECURE_CERTS/ca.pem" \
    >"$_SECURE_CERTS/client-keystore.pem"
  printf '%s' "$_SECURE_CLIENT_KEY_PASSWORD" >"$_SECURE_CERTS/client-key.password"
  touch "$_SECURE_CERTS/.complete"
}

_secure_pid() {
  local pid cmdline
  [[ -f "$_SECURE_NODE/pid" ]] || return 1
  pid="$(cat "$_SECURE_NODE/pid")"
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$_SECURE_NODE/server.properties"* ]] && echo "$pid"
}

_secure_write_properties() {
  local p="$_SECURE_PORT" c="$_SECURE_CERTS" l mech jaas
  local plaintext=$p ssl=$((p + 1)) sasl_plaintext=$((p + 2)) sasl_ssl=$((p + 3)) controller=$((p + 4))
  mkdir -p "$_SECURE_NODE/data"
  # The plain template, with our listeners instead of its PLAINTEXT-only ones.
  sed -e "s|@NODE_ID@|1|g" -e "s|@VOTERS@|1@127.0.0.1:$controller|g" -e "s|@BROKER_PORT@|$plaintext|g" \
      -e "s|@CONTROLLER_PORT@|$controller|g" -e "s|@DATA_DIR@|$_SECURE_NODE/data|g" \
      -e "s|@REPLICATION@|1|g" -e "s|@MIN_ISR@|1|g" \
      -e '/^listeners=/d' -e '/^advertised.listeners=/d' -e '/^listener.security.protocol.map=/d' \
      "$KAFKA_SH_ROOT/scripts/kafka/server.properties.template" >"$_SECURE_NODE/server.properties"
  {
    echo
    echo "# Added by kafka-secure.sh"
    echo "listeners=PLAINTEXT://127.0.0.1:$plaintext,SSL://127.0.0.1:$ssl,SASL_PLAINTEXT://127.0.0.1:$sasl_plaintext,SASL_SSL://127.0.0.1:$sasl_ssl,CONTROLLER://127.0.0.1:$controller"
    echo "advertised.listeners=PLAINTEXT://127.0.0.1:$plaintext,SSL://127.0.0.1:$ssl,SASL_PLAINTEXT://127.0.0.1:$sasl_plaintext,SASL_SSL://127.0.0.1:$sasl_ssl"
    echo "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"
    echo "ssl.keystore.type=JKS"
    echo "ssl.keystore.location=$c/broker.jks"
    echo "ssl.keystore.password=$_SECURE_STORE_PASSWORD"
    echo "ssl.key.password=$_SECURE_STORE_PASSWORD"
    echo "ssl.truststore.type=PEM"
    echo "ssl.truststore.location=$c/ca.pem"
    echo "listener.name.ssl.ssl.client.auth=required"
    echo "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
    for l in sasl_plaintext sasl_ssl; do
      echo "listener.name.$l.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$_SECURE_USER=\"$_SECURE_PASSWORD\";"
      for mech in scram-sha-256 scram-sha-512; do
        jaas="org.apache.kafka.common.security.scram.ScramLoginModule required;"
        echo "listener.name.$l.$mech.sasl.jaas.config=$jaas"
      done
    done
  } >>"$_SECURE_NODE/server.properties"
}

_secure_print() {
  local p="$_SECURE_PORT"
  echo "KAFKA_SECURE_PLAINTEXT=127.0.0.1:$p"
  echo "KAFKA_SECURE_SSL=127.0.0.1:$((p + 1))"
  echo "KAFKA_SECURE_SASL_PLAINTEXT=127.0.0.1:$((p + 2))"
  echo "KAFKA_SECURE_SASL_SSL=127.0.0.1:$((p + 3))"
  echo "KAFKA_SECURE_CERTS=$_SECURE_CERTS"
}

kafka_secure_start() {
  _secure_layout
  if _secure_pid >/dev/null; then
    _secure_log "instance $(basename "$_SECURE_DIR") is already running (stop it first for fresh data)"
    _secure_print
    return 0
  fi
  kafka_fetch || return 1
  kafka_secure_certs || return 1
  local port
  for port in $(seq "$_SECURE_PORT" $((_SECURE_PORT + 4))); do
    if _kafka_port_busy "$port"; then
      _secure_log "port $port is already in use (set KAFKA_SECURE_PORT to the first of 5 free ports)"; return 1
    fi
  done
  rm -rf "$_SECURE_NODE"
  _secure_write_properties
  local -a scram=()
  local mech
  for mech in SCRAM-SHA-256 SCRAM-SHA-512; do
    scram+=(--add-scram "$mech=[name=$_SECURE_USER,password=$_SECURE_PASSWORD]")
  done
  # shellcheck disable=SC2046
  if ! java $(_kafka_java_logging_opts) -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
      "--cluster-id=$(_kafka_cluster_id)" -c "$_SECURE_NODE/server.properties" "${scram[@]}" >"$_SECURE_NODE/format.log" 2>&1; then
    _secure_log "formatting failed:"; tail -n 20 "$_SECURE_NODE/format.log" >&2
    return 1
  fi
  local heap="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
  local perf="${KAFKA_JVM_PERF_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1}"
  # shellcheck disable=SC2086,SC2046
  nohup java $heap $perf -Djava.awt.headless=true -Dkafka.logs.dir="$_SECURE_NODE/logs" $(_kafka_java_logging_opts) \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$_SECURE_NODE/server.properties" >>"$_SECURE_NODE/broker.log" 2>&1 </dev/null &
  echo $! >"$_SECURE_NODE/pid"
  _secure_log "Kafka $KAFKA_RESOLVED_VERSION with SSL/SASL listeners starting (data in $_SECURE_NODE) ..."
  if ! _kafka_wait_ready "127.0.0.1:$_SECURE_PORT" 1 "$(cat "$_SECURE_NODE/pid")"; then
    _secure_log "---- last lines of $_SECURE_NODE/broker.log ----"; tail -n 40 "$_SECURE_NODE/broker.log" >&2
    kafka_secure_stop >/dev/null 2>&1 || true
    return 1
  fi
  _secure_log "Kafka is up"
  _secure_print
}

kafka_secure_stop() {
  _secure_layout
  local pid
  if pid="$(_secure_pid)"; then _kafka_stop_pid "$pid" "secure broker"; fi
  rm -rf "$_SECURE_NODE/data" "$_SECURE_NODE/pid"
  _secure_log "stopped instance $(basename "$_SECURE_DIR") (data removed; certs and logs kept in $_SECURE_DIR)"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    certs) kafka_secure_certs && _secure_layout && echo "KAFKA_SECURE_CERTS=$_SECURE_CERTS" ;;
    start) kafka_secure_start ;;
    stop) kafka_secure_stop ;;
    *) sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 64 ;;
  esac
fi
