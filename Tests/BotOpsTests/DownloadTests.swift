import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `CommandRunner.download` with a real shell on this machine: what arrives is named only when
/// it is whole and its sha256 is the expected one.
struct DownloadTests {
    /// A scratch directory with a 3 MB file of random bytes, and its sha256 by `sha256sum`.
    static func source() async throws -> (directory: String, file: String, sha256: String, size: Int64) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("botops-download-" + UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: directory + "/in", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/out", withIntermediateDirectories: true)
        let file = directory + "/in/a b$c.dump"
        let sum = try await LocalHost().run("head -c 3000000 /dev/urandom > \(shellQuote(file)) && sha256sum < \(shellQuote(file)) | cut -c1-64")
        return (directory, file, sum.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), 3_000_000)
    }

    @Test func aWholeTransferArrivesByteIdenticalUnderItsNameWithItsMode() async throws {
        let source = try await Self.source()
        defer { try? FileManager.default.removeItem(atPath: source.directory) }
        let target = source.directory + "/out/x.dump"
        try await LocalHost().download("cat -- \(shellQuote(source.file))", to: target, sha256: source.sha256, size: source.size, timeout: .seconds(60))
        #expect(FileManager.default.contents(atPath: target) == FileManager.default.contents(atPath: source.file))
        #expect(try FileManager.default.contentsOfDirectory(atPath: source.directory + "/out") == ["x.dump"])
        #expect((try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int) == 0o640)
    }

    @Test(arguments: [
        ("cat -- FILE", "0000000000000000000000000000000000000000000000000000000000000000", "the sha256 of what arrived is"),
        ("head -c 1000000 -- FILE", nil, "1000000 bytes arrived, 3000000 expected"),
        ("head -c 1000000 -- FILE; exit 3", nil, "the transfer ended with"),
    ] as [(String, String?, String)])
    func aWrongOrShortTransferLeavesNothingBehind(command: String, wrongSum: String?, message: String) async throws {
        let source = try await Self.source()
        defer { try? FileManager.default.removeItem(atPath: source.directory) }
        let target = source.directory + "/out/x.dump"
        let script = command.replacingOccurrences(of: "FILE", with: shellQuote(source.file))
        let error = await #expect(throws: DownloadError.self) {
            try await LocalHost().download(script, to: target, sha256: wrongSum ?? source.sha256, size: source.size, timeout: .seconds(60))
        }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: source.directory + "/out") == [], "no file named as the dump, no temporary file left")
    }
}
