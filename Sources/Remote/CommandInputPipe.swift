import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A command's stdin that botops writes as it goes: `input` for the command, `write` to feed it,
/// `closeWriting` for its end of file. Both ends are closed on exec (a Foundation `Pipe`'s are
/// not): a local command (`--local`) or any other spawned meanwhile would otherwise hold the write
/// end, and the command would never see its input end when botops closes it or dies.
public final class CommandInputPipe: @unchecked Sendable {
    private let mutex = NSLock()
    private var reading: Int32?
    private var writing: Int32?

    public init() throws {
        var fds: [Int32] = [-1, -1]
        guard closeOnExecPipe(&fds) == 0 else { throw RemoteError.localSpawnFailed(command: "pipe", detail: errnoText()) }
        reading = fds[0]
        writing = fds[1]
    }

    deinit { close() }

    /// What the command reads (valid until `close`).
    public var input: CommandInput { mutex.withLock { .fileDescriptor(reading ?? -1) } }

    /// Writes `data` whole; false once the write end is closed or the write failed.
    @discardableResult
    public func write(_ data: Data) -> Bool {
        mutex.withLock {
            guard let fd = writing else { return false }
            return data.withUnsafeBytes { bytes in
                var done = 0
                while done < bytes.count {
                    let count = systemWrite(fd, bytes.baseAddress!.advanced(by: done), bytes.count - done)
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { return false }
                    done += count
                }
                return true
            }
        }
    }

    /// The command's end of file (once it read what was written).
    public func closeWriting() {
        mutex.withLock {
            if let fd = writing { _ = closeDescriptor(fd) }
            writing = nil
        }
    }

    /// Closes both ends: call once the command has ended.
    public func close() {
        closeWriting()
        mutex.withLock {
            if let fd = reading { _ = closeDescriptor(fd) }
            reading = nil
        }
    }
}

private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, bytes, count)
    #else
    return Darwin.write(fd, bytes, count)
    #endif
}
