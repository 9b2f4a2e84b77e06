import Dispatch
import Foundation
@testable import Remote
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The download's writer: the connection thread hands chunks over without waiting for the disk.
struct DownloadSinkTests {
    static let chunkSize = 256 * 1024

    /// A pipe nobody reads yet stands for a slow disk: the writer's first write blocks (each chunk
    /// is larger than a pipe's buffer), and still the taking thread hands over `depth` chunks and
    /// returns. Then everything arrives in order, counted and hashed.
    @Test func chunksAreTakenWhileTheWriteWaitsAndArriveInOrder() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let chunks = (0..<DownloadSink.depth).map { [UInt8](repeating: UInt8($0 + 1), count: Self.chunkSize) }
        let sink = DownloadSink(descriptor: fds[1])
        let (tookAll, reader) = Self.feed(chunks, to: sink, readingFrom: fds[0])
        let (size, writeError, sha256) = await sink.finish()
        close(fds[1])  // the reader reads to the end of what was written
        let arrived = Self.join(reader)
        close(fds[0])
        #expect(tookAll, "take waited for the write")
        let all = Array(chunks.joined())
        let expected = StreamingSHA256()
        all.withUnsafeBytes { expected.update($0) }
        #expect(arrived == all)
        #expect(size == Int64(all.count))
        #expect(writeError == nil)
        #expect(sha256 == expected.finish())
    }

    /// Hands `chunks` over on a thread of their own and starts reading the pipe only once they
    /// were all taken (or, when take waited for the write, after a bound that only ends that wait).
    static func feed(_ chunks: [[UInt8]], to sink: DownloadSink, readingFrom descriptor: Int32) -> (tookAll: Bool, reader: Reader) {
        let taken = DispatchSemaphore(value: 0)
        Thread {
            for chunk in chunks { sink.take(.stdout, chunk) }
            taken.signal()
        }.start()
        let tookAll = taken.wait(timeout: .now() + 20) == .success
        let reader = Reader()
        Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                guard count > 0 else { break }
                reader.bytes += buffer[..<count]
            }
            reader.done.signal()
        }.start()
        if !tookAll { taken.wait() }
        return (tookAll, reader)
    }

    static func join(_ reader: Reader) -> [UInt8] {
        reader.done.wait()
        return reader.bytes
    }

    /// What the reading thread got; read after `done`.
    final class Reader: @unchecked Sendable {
        var bytes: [UInt8] = []
        let done = DispatchSemaphore(value: 0)
    }
}
