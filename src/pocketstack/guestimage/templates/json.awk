# Flatten a JSON document into "path<TAB>value" lines, for the guest's busybox awk.
# {"hostname": "vm1", "public_keys": {"k": "ssh-ed25519 AAAA c\n"}, "keys": [{"data": "x"}]}
# becomes
#   hostname<TAB>vm1
#   public_keys/k<TAB>ssh-ed25519 AAAA c
#   keys/0/data<TAB>x
# String escapes are decoded; \n, \r and \t become spaces and values are trimmed, so a
# value is always one line.  Non-ASCII \u escapes become "?".  Installed as
# /usr/share/tiny/json.awk (pocketstack.guestimage); POSIX awk, so the host's awk runs
# it too (the unit tests do).
{ text = text $0 "\n" }
END { n = length(text); pos = 1; value("") }

function ws(   c) {
    while (pos <= n) {
        c = substr(text, pos, 1)
        if (c == " " || c == "\t" || c == "\n" || c == "\r") pos++
        else break
    }
}

function hexval(h,   i, v) {
    v = 0
    for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", tolower(substr(h, i, 1))) - 1
    return v
}

function str(   out, c, e, code) {
    pos++
    out = ""
    while (pos <= n) {
        c = substr(text, pos, 1)
        if (c == "\"") { pos++; return out }
        if (c == "\\") {
            e = substr(text, pos + 1, 1)
            pos += 2
            if (e == "n" || e == "r" || e == "t") out = out " "
            else if (e == "b" || e == "f") out = out
            else if (e == "u") {
                code = hexval(substr(text, pos, 4))
                pos += 4
                out = out ((code >= 32 && code < 127) ? sprintf("%c", code) : "?")
            } else out = out e
            continue
        }
        out = out c
        pos++
    }
    return out
}

function emit(path, v) {
    sub(/^ +/, "", v)
    sub(/ +$/, "", v)
    printf "%s\t%s\n", path, v
}

function join(path, key) { return path == "" ? key : path "/" key }

function value(path,   c, key, index_, start) {
    ws()
    c = substr(text, pos, 1)
    if (c == "{") {
        pos++
        ws()
        if (substr(text, pos, 1) == "}") { pos++; return }
        while (pos <= n) {
            ws()
            key = str()
            ws()
            pos++  # ":"
            value(join(path, key))
            ws()
            c = substr(text, pos, 1)
            pos++
            if (c != ",") return
        }
    } else if (c == "[") {
        pos++
        ws()
        if (substr(text, pos, 1) == "]") { pos++; return }
        index_ = 0
        while (pos <= n) {
            value(join(path, index_))
            index_++
            ws()
            c = substr(text, pos, 1)
            pos++
            if (c != ",") return
        }
    } else if (c == "\"") {
        emit(path, str())
    } else {
        start = pos
        while (pos <= n && index(",}] \t\r\n", substr(text, pos, 1)) == 0) pos++
        emit(path, substr(text, start, pos - start))
    }
}
