#!/bin/sh
# A tiny HTTP server: busybox httpd serving /srv/www on port 8080.
exec httpd -f -p 8080 -h /srv/www
