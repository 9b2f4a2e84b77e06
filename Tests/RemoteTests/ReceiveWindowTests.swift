import Foundation
import Remote
import SandboxSupport
import Testing

/// The window a channel opens with bounds what the host sends before botops reads it, and so what
/// libssh2 holds in memory (its read drains the socket into its queue): 1 MB, not libssh2's 2 MB.
extension SSHIntegrationTests {
    /// Reads nothing on the first chunk until the host has stopped writing, then counts the 64 KB
    /// blocks the host's command got out in that time (one byte each in a file on this machine,
    /// which is the sandbox host): about a window's worth. With 2 MB it was 32, with 1 MB 16.
    @Test func theHostSendsAboutOneMegabyteAheadOfWhatBotopsRead() async throws {
        let progress = FileManager.default.temporaryDirectory.appendingPathComponent("botops-window-" + UUID().uuidString).path
        FileManager.default.createFile(atPath: progress, contents: nil, attributes: [.posixPermissions: 0o666])
        defer { try? FileManager.default.removeItem(atPath: progress) }
        final class Stall: @unchecked Sendable {  // touched by the connection thread only, then read after the command
            var blocks: Int?
            var bytes = 0
        }
        let stall = Stall()
        let connection = try await connect()
        try await connection.closing {
            let termination = try await connection.stream(
                "for i in $(seq 64); do head -c 65536 /dev/zero || exit 1; printf x >> \(shellQuote(progress)); done",
                timeout: .seconds(120), input: .none
            ) { kind, bytes in
                guard kind == .stdout else { return }
                stall.bytes += bytes.count
                guard stall.blocks == nil else { return }
                // Blocks the connection thread: nothing more is read until the host has written
                // all it can (at least 8 blocks, then no change for a second; 60 s at most).
                var last = -1, unchanged = 0
                for _ in 0..<3000 {
                    let now = (try? FileManager.default.attributesOfItem(atPath: progress)[.size] as? Int) ?? 0
                    if now == last { unchanged += 1 } else { unchanged = 0 }
                    last = now
                    if now >= 8 && unchanged >= 50 { break }
                    usleep(20_000)
                }
                stall.blocks = last
            }
            #expect(termination == .exited(0))
        }
        #expect(stall.bytes == 64 * 65536)
        let blocks = try #require(stall.blocks)
        #expect((8...24).contains(blocks), "\(blocks) blocks of 64 KB sent before botops read the first")
    }
}
