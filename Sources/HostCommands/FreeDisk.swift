/// The free space on the disk holding a path, as the host's `df` sees it: the one reading of it
/// for status, deploy's preflight, and backup's and restore's low-disk refusals.
public struct FreeDisk: Sendable, Equatable {
    /// Where the disk is mounted.
    public var mount: String
    public var freeBytes: Int64

    public init(mount: String, freeBytes: Int64) {
        self.mount = mount
        self.freeBytes = freeBytes
    }

    /// One line, `[LABEL ]KILOBYTES MOUNT` (`parse` reads it without its label), for the disk
    /// holding `path` (a shell word, so it may expand), or none when df cannot read it. `-P` keeps
    /// a disk on one line, `-k` counts 1024-byte blocks everywhere; a mount point's spaces are
    /// kept (df prints it last), and a device name's do not shift the counts. `label` is a plain
    /// word (a key of its caller's `KEY VALUE` lines).
    public static func script(_ path: ShellScript, label: String? = nil) -> ShellScript {
        precondition(label?.allSatisfy { $0.isLetter || $0 == "-" || $0 == "_" } != false, "a label is a plain word")
        let prefix = label.map { "\"\($0) \" " } ?? ""
        // The capacity (`N%` after three counts) places the others: a device name may hold
        // spaces too (a CIFS share), and `$4` is then the used count. None found: no line.
        let counts = "$(c-1) ~ /^-?[0-9]+$/ && $(c-2) ~ /^[0-9]+$/ && $(c-3) ~ /^[0-9]+$/"
        let awk = "NR == 2 { for (c = 5; c < NF; c++) if ($c ~ /^[0-9]+%$/ && \(counts)) break; if (c >= NF) exit;"
            + " m = $(c+1); for (i = c+2; i <= NF; i++) m = m \" \" $i; print \(prefix)$(c-1) \" \" m }"
        return "df -Pk \(path) 2>/dev/null | awk \(awk)"
    }

    /// The disk in `script`'s line, its label taken off; nil for no line or one it cannot read
    /// (a count that is no number or would overflow in bytes).
    public static func parse(_ line: String?) -> FreeDisk? {
        guard let fields = line?.split(separator: " ", maxSplits: 1).map(String.init), fields.count == 2,
              let kilobytes = Int64(fields[0]) else { return nil }
        let (bytes, overflow) = kilobytes.multipliedReportingOverflow(by: 1024)
        return overflow ? nil : FreeDisk(mount: fields[1], freeBytes: bytes)
    }
}
