import Foundation

/// A file copied to the host through a runner's own command channel (over SSH, the connection
/// already open: no scp, no second login). Written beside its destination under a temporary name,
/// its size checked and flushed, then renamed over the destination, so a reader (cron starting
/// `~/botops/bin/botops`) sees the old file or the whole new one, never a part.
public struct Upload: Sendable {
    public let localPath: String
    /// The destination on the host; a leading `~/` is the host user's home directory.
    public let remotePath: String
    /// Octal, as chmod takes it.
    public let mode: String

    public init(localPath: String, remotePath: String, mode: String = "644") {
        precondition(mode.allSatisfy { ("0"..."7").contains($0) }, "mode is octal digits")
        self.localPath = localPath
        self.remotePath = remotePath
        self.mode = mode
    }

    /// The host-side script for a file of `size` bytes arriving on stdin.
    func script(size: Int64) -> String {
        let destination = remotePath.hasPrefix("~/") ? "\"$HOME\"/" + shellQuote(String(remotePath.dropFirst(2))) : shellQuote(remotePath)
        return """
            set -e
            dest=\(destination)
            tmp="$dest.botops-upload.$$"
            trap 'rm -f "$tmp"' EXIT
            cat > "$tmp"
            got=$(wc -c < "$tmp")
            if [ "$got" -ne \(size) ]; then echo "received $got of \(size) bytes" >&2; exit 1; fi
            chmod \(mode) "$tmp"
            sync "$tmp" 2>/dev/null || sync
            mv -f "$tmp" "$dest"
            trap - EXIT
            """
    }

    public func run(on runner: some CommandRunner, timeout: Duration) async throws {
        let descriptor = open(localPath, O_RDONLY)
        guard descriptor >= 0 else {
            throw UploadError(localPath: localPath, remotePath: remotePath, reason: "cannot open it: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw UploadError(localPath: localPath, remotePath: remotePath, reason: "it is not a regular file")
        }
        let result = try await runner.run(script(size: Int64(info.st_size)), timeout: timeout, input: .fileDescriptor(descriptor))
        guard result.succeeded else {
            let said = String(decoding: result.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw UploadError(localPath: localPath, remotePath: remotePath, reason: said.isEmpty ? "the host's copy ended with \(result.termination)" : said)
        }
    }
}

public struct UploadError: Error, CustomStringConvertible {
    public var localPath: String
    public var remotePath: String
    public var reason: String

    public var description: String {
        "could not copy \(localPath) to the host's \(remotePath): \(reason). The host's previous file, if any, is unchanged."
    }
}
