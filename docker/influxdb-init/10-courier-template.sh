#!/bin/bash
# Runs once, when the InfluxDB container initialises an empty data volume (the influxdb image
# runs /docker-entrypoint-initdb.d/*.sh after its setup, with the influx CLI already configured
# for the new org and operator token). It applies the courier-traffic template: the buckets
# courier/autogen and courier/daily, the ranking task and the dashboard.
set -euo pipefail
influx apply \
  --org "${DOCKER_INFLUXDB_INIT_ORG}" \
  --file /etc/courier-traffic/courier-traffic.yml \
  --force yes
