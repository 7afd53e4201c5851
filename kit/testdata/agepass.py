#!/usr/bin/python3
# agepass.py PASSFILE OUT IN: run the stock `age -d -o OUT IN` on a pseudo-terminal and
# type the passphrase from PASSFILE when age asks for it (age reads passphrases from the
# terminal only). Exits with age's status.
import os
import pty
import sys

pw = open(sys.argv[1], "rb").read().strip()
pid, fd = pty.fork()
if pid == 0:
    os.execvp("age", ["age", "-d", "-o", sys.argv[2], sys.argv[3]])
buf = b""
sent = False
while True:
    try:
        data = os.read(fd, 1024)
    except OSError:
        break
    if not data:
        break
    buf += data
    if not sent and b"passphrase" in buf.lower():
        os.write(fd, pw + b"\n")
        sent = True
_, status = os.waitpid(pid, 0)
sys.stderr.write(buf.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
