#!/usr/bin/env bash
# Takes the tray documentation screenshots: the app (not headless) on a
# private session bus with xfce4-panel on Xvfb, signed in against the
# fakecodex fake (with -auth), after a few real requests; then checks
# that a real click on "Copy base URL" fills the clipboard and that "Quit"
# exits with status 0.
# Usage: build/screenshots/take.sh build/screenshots   (from the repository root)
# Needs: dbus libglib2.0-bin xvfb xfce4-panel xdotool imagemagick x11-utils xclip
# curl python3
# (apt-get install --no-install-recommends; never dbus-x11). Not run in CI.
set -euo pipefail
out=${1:?usage: take.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
repo=$(pwd)
D=$(mktemp -d /tmp/shotsXXXX)
pids=()
cleanup() {
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
	sleep 0.5
	rm -rf "$D"
}
trap cleanup EXIT
start() { "$@" & pids+=("$!"); }

# Build first, with the person's HOME (and so their module cache).
go build -o "$D/app" "$repo"
go build -o "$D/fakecodex" "$repo/proxy/codextest/cmd/fakecodex"

unset DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY
export HOME=$D/home XDG_CONFIG_HOME=$D/config XDG_DATA_HOME=$D/data XDG_CACHE_HOME=$D/cache XDG_RUNTIME_DIR=$D/run
export NO_AT_BRIDGE=1 GTK_A11Y=none
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

cat >"$D/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$XDG_RUNTIME_DIR/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
CONF
start dbus-daemon --config-file="$D/bus.conf" --nofork
export DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus
until [ -S "$XDG_RUNTIME_DIR/bus" ]; do sleep 0.05; done

exec 5>"$D/display"
start Xvfb -displayfd 5 -screen 0 720x400x24 -nolisten tcp -noreset
exec 5>&-
until [ -s "$D/display" ]; do sleep 0.05; done
DISPLAY=:$(cat "$D/display")
export DISPLAY

# One top panel: an expanding separator, the systray and a clock.
x=$XDG_CONFIG_HOME/xfce4/xfconf/xfce-perchannel-xml
mkdir -p "$x"
cat >"$x/xfce4-panel.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="28"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
        <value type="int" value="2"/>
        <value type="int" value="3"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="separator">
      <property name="expand" type="bool" value="true"/>
      <property name="style" type="uint" value="0"/>
    </property>
    <property name="plugin-2" type="string" value="systray"/>
    <property name="plugin-3" type="string" value="clock">
      <property name="digital-format" type="string" value="%H:%M"/>
    </property>
  </property>
</channel>
XML
start /usr/lib/x86_64-linux-gnu/xfce4/xfconf/xfconfd
start xfce4-panel --disable-wm-check
until gdbus call --session -d org.freedesktop.DBus -o /org/freedesktop/DBus -m org.freedesktop.DBus.NameHasOwner org.kde.StatusNotifierWatcher 2>/dev/null | grep -q true; do sleep 0.1; done

start "$D/fakecodex" -auth -email ann@example.com -plan plus -session-out "$D/session" -quiet >"$D/fake.url"
until [ -s "$D/fake.url" ] && [ -s "$D/session" ]; do sleep 0.05; done
base=$(cat "$D/fake.url")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CHATGPT_BASE_URL=$base CHATGPT_AUTH_URL=${base%/backend-api} CHATGPT_SESSION_TOKEN=$(cat "$D/session") \
	CHATGPT_SECRET_STORE=env CHATGPT_API_KEY=sk-local-shots CHATGPT_PORT=$port \
	start "$D/app" 2>"$D/app.log"
until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.05; done

# Real requests from two clients.
chat() {
	curl -fs -A "$1" -H "Authorization: Bearer sk-local-shots" -H 'Content-Type: application/json' \
		-d '{"model":"gpt-5.5","messages":[{"role":"user","content":"hi"}]}' \
		"http://127.0.0.1:$port/v1/chat/completions" >/dev/null
}
for _ in 1 2 3 4 5; do chat "OpenAI/Python 1.99.0"; done
for _ in 1 2; do chat "curl/7.88.1"; done
sleep 2

# The panel: its right part, with the icon next to the clock, at 2x.
import -window root "$D/root.png"
convert "$D/root.png" -crop 200x29+520+0 +repage -scale 200% -strip "$out/tray-panel.png"

# Click the icon (the systray plugin's socket window, left of the clock),
# then hover "Requests" (the fourth row) to open the per-client submenu.
# Without a window manager the menu opens at the top of the screen.
# geom prints the size and absolute position of the first wrapper-2.0
# window (the panel plugin's process) whose size matches the regex $1.
geom() {
	xwininfo -root -tree | awk -v re="$1" '/"wrapper-2.0": \("wrapper-2.0"/ && $(NF-1) ~ re { print $(NF-1), $NF; exit }'
}
read -r size abs < <(geom '^[0-9]+x28[+]')
w=${size%%x*}
IFS=+ read -r _ ax ay <<<"$abs"
xdotool mousemove $((ax + w / 2)) $((ay + 14)) click 1
sleep 1
read -r size abs < <(geom '^[0-9]+x[0-9][0-9][0-9][+]')
IFS=+ read -r _ mx my <<<"$abs"
xdotool mousemove $((mx + 80)) $((my + 90))
sleep 1.5
import -window root "$D/menu.png"
# Paint the bare (black) root window light grey and keep the menu's part.
convert "$D/menu.png" -fill '#e8e8e8' -draw 'color 0,399 floodfill' -draw 'color 719,399 floodfill' \
	-trim +repage -strip PNG8:"$out/tray-menu.png"
ls -l "$out"

# Choose "Copy base URL" with a real click and read the clipboard, then
# reopen the menu and choose "Quit": the app must exit with status 0.
app_pid=${pids[${#pids[@]} - 1]}
xdotool mousemove $((mx + 80)) $((my + 166)) click 1
sleep 1
got=$(xclip -o -selection clipboard 2>/dev/null || true)
[ "$got" = "http://127.0.0.1:$port/v1" ] || { echo "clipboard: got '$got'" >&2; exit 1; }
echo "clipboard holds $got"
xdotool mousemove $((ax + w / 2)) $((ay + 14)) click 1
sleep 1
xdotool mousemove $((mx + 80)) $((my + 319)) click 1
for _ in $(seq 100); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
if wait "$app_pid"; then echo "Quit: the app exited with status 0"; else echo "Quit: the app exited with status $?" >&2; exit 1; fi
