import CLibSSH2
import Foundation

/// A file copied to the host through a runner's own command channel (over SSH, the connection
/// already open: no scp, no second login). Written beside its destination under a temporary name,
/// its size and SHA-256 checked against the local file's and flushed, then renamed over the
/// destination, so a reader (cron starting `~/botops/bin/botops`) sees the old file or the whole
/// new one, never a part. A copy cut short (a signal, a lost connection) removes its part.
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

    /// The host-side script for a file of `size` bytes with SHA-256 `sha256` (hex) arriving on stdin.
    func script(size: Int64, sha256: String) -> String {
        let destination = remotePath.hasPrefix("~/") ? "\"$HOME\"/" + shellQuote(String(remotePath.dropFirst(2))) : shellQuote(remotePath)
        return """
            set -e
            dest=\(destination)
            tmp="$dest.botops-upload.$$"
            trap 'rm -f "$tmp"' EXIT
            # dash skips the EXIT trap when a signal ends it: a hangup must still remove the part.
            trap 'exit 1' HUP INT TERM PIPE
            cat > "$tmp"
            got=$(wc -c < "$tmp")
            if [ "$got" -ne \(size) ]; then echo "received $got of \(size) bytes" >&2; exit 1; fi
            sum=$(sha256sum < "$tmp") || { echo "sha256sum failed on the host" >&2; exit 1; }
            if [ "${sum%% *}" != \(shellQuote(sha256)) ]; then echo "the copy's sha256 differs from the local file's (damaged in transit)" >&2; exit 1; fi
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
        let size = Int64(info.st_size)
        let sha256: String
        do { sha256 = try await Self.sha256(of: descriptor, size: size) } catch {
            throw UploadError(localPath: localPath, remotePath: remotePath, reason: "cannot read it: \(error)")
        }
        let result = try await runner.run(script(size: size, sha256: sha256), timeout: timeout, input: .fileDescriptor(descriptor))
        guard result.succeeded else {
            let said = String(decoding: result.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw UploadError(localPath: localPath, remotePath: remotePath, reason: said.isEmpty ? "the host's copy ended with \(result.termination)" : said)
        }
    }
}

extension Upload {
    /// The hex SHA-256 of the first `size` bytes of `descriptor`, read with pread (the offset the
    /// upload reads from stays at 0), on a thread of its own: a 90 MB binary is not hashed on
    /// the cooperative pool.
    static func sha256(of descriptor: Int32, size: Int64) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try sha256Blocking(of: descriptor, size: size) })
            }
        }
    }

    private static func sha256Blocking(of descriptor: Int32, size: Int64) throws -> String {
        guard let context = EVP_MD_CTX_new() else { throw POSIXError(.ENOMEM) }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else { throw POSIXError(.EIO) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        while offset < size {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw POSIXError(POSIXErrorCode(rawValue: count < 0 ? errno : EIO) ?? .EIO) }
            guard buffer.withUnsafeBytes({ EVP_DigestUpdate(context, $0.baseAddress, count) }) == 1 else { throw POSIXError(.EIO) }
            offset += Int64(count)
        }
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &digest, &length) == 1, length == 32 else { throw POSIXError(.EIO) }
        return digest.map { String(format: "%02x", $0) }.joined()
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
