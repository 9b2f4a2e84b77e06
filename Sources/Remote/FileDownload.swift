import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SHA-256 of bytes as they arrive (OpenSSL's EVP), for files too big to hold in memory.
public final class StreamingSHA256: @unchecked Sendable {
    private let context: OpaquePointer?

    public init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        _ = EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
    }

    /// The digest as 64 lowercase hex digits.
    public func finish() -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }

    /// The digest of bytes already in memory (a record, a roles file).
    public static func hex(of bytes: some ContiguousBytes) -> String {
        let digest = StreamingSHA256()
        bytes.withUnsafeBytes { digest.update($0) }
        return digest.finish()
    }
}

/// Why a download left nothing under its name.
public struct DownloadError: Error, CustomStringConvertible {
    public let description: String
}

/// Writes a command's stdout to a file as it arrives, hashing it on the way, on a thread of its
/// own: the connection thread hands each chunk over and goes back to decrypting while this one
/// hashes it and the kernel copies it into the page cache. Written in line, the copy (as much CPU
/// as the decryption on the development machine) and the decryption ran one after the other on one
/// thread, where scp's two processes overlap them. At most `depth` chunks wait (memory stays
/// bounded); a chunk beyond that waits for the writer. The first write error is kept and every
/// later byte dropped. `take` is called from one thread at a time.
final class DownloadSink: @unchecked Sendable {
    static let depth = 4

    private let descriptor: Int32
    private let condition = NSCondition()
    // Under `condition`.
    private var queue: [[UInt8]] = []
    private var closed = false
    private var writerDone = false
    private var whenDone: (() -> Void)?
    // The writer thread's until it is done; read after `finish`.
    private let digest = StreamingSHA256()
    private var size: Int64 = 0
    private var writeError: Int32?
    /// The taking thread's; read once the command ended.
    private(set) var stderrTail: [UInt8] = []

    init(descriptor: Int32) {
        self.descriptor = descriptor
        let writer = Thread { self.writeAll() }
        writer.name = "download writer"
        writer.start()
    }

    func take(_ kind: OutputKind, _ bytes: [UInt8]) {
        guard kind == .stdout else {
            stderrTail = Array((stderrTail + bytes).suffix(2000))
            return
        }
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= Self.depth && !closed { condition.wait() }
        guard !closed else { return }  // a late chunk after the caller stopped waiting
        queue.append(bytes)
        if queue.count == 1 { condition.broadcast() }  // the writer waits only on an empty queue
    }

    /// Waits (without blocking the caller's thread) until every chunk taken is written or dropped:
    /// the size written, the first write error, the sha256 of what was written. Called once.
    func finish() async -> (size: Int64, writeError: Int32?, sha256: String) {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            condition.lock()
            closed = true
            condition.broadcast()
            let finished = writerDone
            if !finished { whenDone = { done.resume() } }
            condition.unlock()
            if finished { done.resume() }
        }
        return (size, writeError, digest.finish())
    }

    private func writeAll() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            guard !queue.isEmpty else {
                writerDone = true
                let done = whenDone
                condition.unlock()
                done?()
                return
            }
            let chunk = queue.removeFirst()
            if queue.count == Self.depth - 1 { condition.broadcast() }  // the taker waits only on a full one
            condition.unlock()
            put(chunk)
        }
    }

    private func put(_ bytes: [UInt8]) {
        guard writeError == nil else { return }
        bytes.withUnsafeBytes { buffer in
            digest.update(buffer)
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    writeError = errno
                    return
                }
                offset += written
            }
        }
        if writeError == nil { size += Int64(bytes.count) }
    }
}

extension CommandRunner {
    /// Streams `command`'s stdout into `path`, atomically: into a temporary file beside it, fsynced,
    /// given `mode` and renamed to `path` only when the command succeeded and the bytes' sha256 (and
    /// size) equal `sha256` and `size` when given. On any other way out (a failing command, a short
    /// or different transfer, a full disk, a lost connection, cancellation) the temporary file is
    /// removed and nothing is named `path`. Memory stays constant whatever the size.
    public func download(_ command: String, to path: String, sha256 expected: String?, size expectedSize: Int64?,
                         mode: mode_t = 0o640, timeout: Duration?) async throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".partial-" + UUID().uuidString.prefix(8)).path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw DownloadError(description: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var named = false
        defer {
            close(descriptor)
            if !named { unlink(temporary) }
        }
        let sink = DownloadSink(descriptor: descriptor)
        let termination: Termination
        do {
            termination = try await stream(command, timeout: timeout, input: .none) { sink.take($0, $1) }
        } catch {
            _ = await sink.finish()  // the writer is done with the descriptor before it is closed
            throw error
        }
        let (size, writeError, sum) = await sink.finish()
        if let writeError {
            throw DownloadError(description: "writing \(temporary) failed after \(size) bytes: \(String(cString: strerror(writeError)))")
        }
        guard termination == .exited(0) else {
            let said = String(decoding: sink.stderrTail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw DownloadError(description: "the transfer ended with \(termination) after \(size) bytes" + (said.isEmpty ? "" : ": \(said)"))
        }
        if let expectedSize, size != expectedSize {
            throw DownloadError(description: "\(size) bytes arrived, \(expectedSize) expected")
        }
        if let expected, sum != expected {
            throw DownloadError(description: "the sha256 of what arrived is \(sum), \(expected) expected")
        }
        guard fchmod(descriptor, mode) == 0, fsync(descriptor) == 0, rename(temporary, path) == 0 else {
            throw DownloadError(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        named = true
        // The rename itself survives a crash once the directory is synced.
        let directory = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }
}
