#!/usr/bin/python3
"""Independent aes-xts-plain64, for travelkit's cryptsetup interop tests.

usage: xts.py encrypt|decrypt KEYFILE SECTOR_SIZE FIRST_SECTOR < input > output

KEYFILE holds the raw volume key (32 or 64 bytes, as `cryptsetup luksDump
--dump-volume-key --volume-key-file` writes it). The input is whole sectors of
SECTOR_SIZE bytes, the first being payload sector FIRST_SECTOR. The tweak of
payload sector k is k * SECTOR_SIZE / 512 (plain64 counts 512-byte units even
for 4096-byte sectors), as a 16-byte little-endian number.
"""
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("encrypt", "decrypt"):
        sys.exit(__doc__)
    op, keyfile = sys.argv[1], sys.argv[2]
    sector, first = int(sys.argv[3]), int(sys.argv[4])
    with open(keyfile, "rb") as f:
        key = f.read()
    if len(key) not in (32, 64):
        sys.exit("xts.py: key must be 32 or 64 bytes, not %d" % len(key))
    if sector not in (512, 4096):
        sys.exit("xts.py: sector size must be 512 or 4096")
    data = sys.stdin.buffer.read()
    if len(data) % sector:
        sys.exit("xts.py: input is not a whole number of sectors")
    out = bytearray()
    for i in range(len(data) // sector):
        tweak = ((first + i) * (sector // 512)).to_bytes(16, "little")
        c = Cipher(algorithms.AES(key), modes.XTS(tweak))
        ctx = c.encryptor() if op == "encrypt" else c.decryptor()
        out += ctx.update(data[i * sector:(i + 1) * sector]) + ctx.finalize()
    sys.stdout.buffer.write(bytes(out))


if __name__ == "__main__":
    main()
