import BotOpsKit
import Foundation
import Testing

/// The playbooks compiled into botops: equal to the shipped files, used per file when the
/// playbooks directory has no file of that name, and written out by `playbooks export`.
@Suite struct BuiltInPlaybookTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("botops-playbooks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test(arguments: Playbook.Kind.allCases)
    func builtInTextIsTheShippedFile(_ kind: Playbook.Kind) throws {
        let shipped = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("playbooks/\(kind.fileName)"), encoding: .utf8)
        #expect(kind.builtInText == shipped, "playbooks/\(kind.fileName) changed: run scripts/embed-playbooks to build it into botops")
    }

    @Test func withoutPlaybookFilesBothAreBuiltIn() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("playbooks").path
        for kind in Playbook.Kind.allCases {
            let playbook = try Playbook.resolve(kind, directory: missing)
            #expect(playbook.origin == .builtIn(absent: missing + "/" + kind.fileName))
            #expect(playbook.steps == (try Playbook.parse(kind.builtInText, file: "x", kind: kind)).steps)
            #expect(playbook.originDescription == "\(kind.fileName): built into botops (there is no \(missing)/\(kind.fileName))")
        }
    }

    @Test func aFileReplacesItsBuiltInCounterpartOnly() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let own = Playbook.Kind.deploy.builtInText.replacing("name: preflight", with: "name: our-preflight")
        let path = directory.appendingPathComponent("deploy.yml").path
        try own.write(toFile: path, atomically: true, encoding: .utf8)
        let deploy = try Playbook.resolve(.deploy, directory: directory.path)
        #expect(deploy.origin == .file(path))
        #expect(deploy.steps.contains { $0.name == "our-preflight" })
        #expect(try Playbook.resolve(.rollback, directory: directory.path).origin == .builtIn(absent: directory.path + "/rollback.yml"))
    }

    @Test func aBrokenFileIsAnErrorNotAFallback() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "steps: []\n".write(to: directory.appendingPathComponent("rollback.yml"), atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try Playbook.resolve(.rollback, directory: directory.path) }
    }

    /// A symlink to a playbook that is gone is an override gone wrong, not an absent file.
    @Test func aDanglingSymlinkIsAnErrorNotAFallback() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("deploy.yml").path,
                                                   withDestinationPath: directory.appendingPathComponent("gone.yml").path)
        #expect(throws: ConfigError.self) { try Playbook.resolve(.deploy, directory: directory.path) }
        #expect(try Playbook.resolve(.rollback, directory: directory.path).origin == .builtIn(absent: directory.path + "/rollback.yml"))
        // `playbooks:` naming a file (a slip for its directory) is no directory without playbooks.
        let file = directory.appendingPathComponent("botops.yml")
        try "hosts: {}\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try Playbook.resolve(.rollback, directory: file.path) }
    }

    @Test func exportWritesTheBuiltInsAndNeverReplacesAFileUnasked() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent("new/playbooks")
        let written = try PlaybookExport(directory: target.path).write(overwrite: false)
        #expect(written == [target.appendingPathComponent("deploy.yml").path, target.appendingPathComponent("rollback.yml").path])
        for kind in Playbook.Kind.allCases {
            #expect(try String(contentsOf: target.appendingPathComponent(kind.fileName), encoding: .utf8) == kind.builtInText)
        }
        try "edited\n".write(to: target.appendingPathComponent("deploy.yml"), atomically: true, encoding: .utf8)
        let refusal = #expect(throws: PlaybookExportError.self) { try PlaybookExport(directory: target.path).write(overwrite: false) }
        #expect(refusal?.exitCode == .refused)
        #expect(try String(contentsOf: target.appendingPathComponent("deploy.yml"), encoding: .utf8) == "edited\n")
        _ = try PlaybookExport(directory: target.path).write(overwrite: true)
        #expect(try String(contentsOf: target.appendingPathComponent("deploy.yml"), encoding: .utf8) == Playbook.Kind.deploy.builtInText)
    }
}
