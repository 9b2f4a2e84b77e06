import Foundation
import Remote
import SandboxSupport
import Testing

/// Upload's host-side script run by the real /bin/sh, with a faulty `cat`: bytes damaged on the
/// way (same size) and a copy whose shell is hung up on midway. Either way the destination keeps
/// its old content and no part is left beside it.
@Suite struct UploadTests {
    /// LocalHost whose shell has a `cat` function of the test's: a function, not a script first on
    /// PATH, which a fork elsewhere in this parallel test process could hold open for writing
    /// (ETXTBSY, and dash then runs the next `cat` on PATH: the real one).
    struct FaultyCat: CommandRunner {
        let body: String
        var destination: String { "local" }

        func stream(_ command: String, timeout: Duration?, input: CommandInput, onOutput: @escaping OutputHandler) async throws -> Termination {
            try await LocalHost().stream("cat() { \(body); }\n" + command, timeout: timeout, input: input, onOutput: onOutput)
        }
    }

    /// A scene: the destination holding "old", the local file "new content", a faulty `cat`.
    func scene(fakeCat: String) throws -> (directory: URL, runner: FaultyCat, upload: Upload) {
        let directory = try temporaryDirectory()
        let target = directory.appendingPathComponent("dest dir 'odd' $x")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try "old".write(to: target.appendingPathComponent("botops"), atomically: true, encoding: .utf8)
        let local = directory.appendingPathComponent("new")
        try "new content".write(to: local, atomically: true, encoding: .utf8)
        return (directory, FaultyCat(body: fakeCat), Upload(localPath: local.path, remotePath: target.appendingPathComponent("botops").path, mode: "755"))
    }

    func expectOldAndNoPart(_ directory: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let target = directory.appendingPathComponent("dest dir 'odd' $x")
        #expect(try String(contentsOf: target.appendingPathComponent("botops"), encoding: .utf8) == "old", sourceLocation: sourceLocation)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path) == ["botops"], "a part was left", sourceLocation: sourceLocation)
    }

    @Test func aCopyWithTheRightSizeButDamagedBytesIsRefused() async throws {
        // Same length, other bytes: a size check alone would install this.
        let (directory, runner, upload) = try scene(fakeCat: "tr a-z A-Z")
        defer { try? FileManager.default.removeItem(at: directory) }
        let error = await #expect(throws: UploadError.self) { try await upload.run(on: runner, timeout: .seconds(30)) }
        #expect(error?.reason.contains("sha256") == true, "\(String(describing: error))")
        try expectOldAndNoPart(directory)
    }

    @Test func aCopyWhoseShellIsHungUpOnLeavesNoPart() async throws {
        // Part of the file written, then the shell hung up on, as sshd's end of a lost connection.
        let (directory, runner, upload) = try scene(fakeCat: "head -c 3; kill -HUP $$")
        defer { try? FileManager.default.removeItem(at: directory) }
        await #expect(throws: UploadError.self) { try await upload.run(on: runner, timeout: .seconds(30)) }
        try expectOldAndNoPart(directory)
    }

    @Test func anIntactCopyReplacesTheDestination() async throws {
        let (directory, _, upload) = try scene(fakeCat: "false")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await upload.run(on: LocalHost(), timeout: .seconds(30))
        let target = directory.appendingPathComponent("dest dir 'odd' $x")
        #expect(try String(contentsOf: target.appendingPathComponent("botops"), encoding: .utf8) == "new content")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path) == ["botops"])
    }
}
