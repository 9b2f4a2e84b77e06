import Foundation
@testable import Remote
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The download's writer: the connection thread hands chunks over without waiting for the disk,
/// and a disk that fails never holds it. Every wait is bounded so that a broken sink fails these
/// tests instead of hanging the run (a thread it holds is left blocked); with the writer in place
/// no bound is near: `depth` chunks are taken without any wait, and the rest waits only for
/// threads that run to their end.
struct DownloadSinkTests {
    static let chunkSize = 256 * 1024
    /// Long enough that a loaded machine never reaches them on a working sink: for takes that
    /// should not wait at all, and for waits that only keep a broken sink from hanging the run.
    static let takeBound: Duration = .seconds(10)
    static let bound: Duration = .seconds(60)

    /// A pipe nobody reads yet stands for a slow disk: the writer's first write blocks (each chunk
    /// is larger than a pipe's buffer). The pipe is read only after the taking thread handed over
    /// `depth` chunks and returned, so a take that waited for the write never returns in time (the
    /// test then fails, reads the pipe, and that take ends). Then everything arrives in order,
    /// counted and hashed.
    @Test func chunksAreTakenWhileTheWriteWaitsAndArriveInOrder() async throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let chunks = (0..<DownloadSink.depth).map { [UInt8](repeating: UInt8($0 + 1), count: Self.chunkSize) }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let sink = DownloadSink(descriptor: writeEnd)
        let taking = OnThread { for chunk in chunks { sink.take(.stdout, chunk) } }
        let tookAll = await taking.value(within: Self.takeBound) != nil
        let reader = OnThread { Self.readToEnd(readEnd) }
        #expect(tookAll, "take waited for the write: the connection thread would wait for the disk")
        #expect(await taking.value(within: Self.bound) != nil, "take never returned though the pipe was read")
        let finished = try #require(await bounded(Self.bound) { await sink.finish() }, "finish never returned")
        close(writeEnd)  // the writer is done with it: the reader reads to its end
        let arrived = try #require(await reader.value(within: Self.bound), "the pipe never ended")
        close(readEnd)
        let all = Array(chunks.joined())
        let expected = StreamingSHA256()
        all.withUnsafeBytes { expected.update($0) }
        #expect(arrived == all)
        #expect(finished.size == Int64(all.count))
        #expect(finished.writeError == nil)
        #expect(finished.sha256 == expected.finish())
    }

    /// A write that fails (/dev/full: ENOSPC on every write) is reported by `finish`, and the
    /// writer keeps taking chunks off the queue (dropping them), so the taking thread, handed
    /// three queues' worth, never waits for a slot that would never free.
    @Test func aFailedWriteIsReportedAndNeverHoldsTheTakingThread() async throws {
        let full = open("/dev/full", O_WRONLY | O_CLOEXEC)
        try #require(full >= 0, "no /dev/full: \(String(cString: strerror(errno)))")
        let sink = DownloadSink(descriptor: full)
        let chunks = (0..<(3 * DownloadSink.depth)).map { [UInt8](repeating: UInt8($0), count: 65536) }
        let taking = OnThread { for chunk in chunks { sink.take(.stdout, chunk) } }
        try #require(await taking.value(within: Self.takeBound) != nil, "the taking thread waits for a writer that stopped at its error")
        let finished = try #require(await bounded(Self.bound) { await sink.finish() }, "finish never returned")
        close(full)
        #expect(finished.writeError == ENOSPC)
        #expect(finished.size == 0, "no byte was written")
    }

    static func readToEnd(_ descriptor: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return bytes }
            bytes += buffer[..<count]
        }
    }

    /// Work that may block, on a thread of its own, awaited without blocking a thread of Swift's
    /// cooperative pool.
    final class OnThread<T: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var result: T?
        private var waiting: [CheckedContinuation<T, Never>] = []

        init(_ work: @escaping @Sendable () -> T) {
            Thread { self.end(work()) }.start()
        }

        private func end(_ value: T) {
            lock.lock()
            result = value
            let waiters = waiting
            waiting = []
            lock.unlock()
            waiters.forEach { $0.resume(returning: value) }
        }

        /// Its value, or nil when it has not ended within `limit` (the thread is left to it).
        func value(within limit: Duration) async -> T? {
            await bounded(limit) {
                await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
                    self.lock.lock()
                    if let result = self.result {
                        self.lock.unlock()
                        continuation.resume(returning: result)
                    } else {
                        self.waiting.append(continuation)
                        self.lock.unlock()
                    }
                }
            }
        }
    }
}
