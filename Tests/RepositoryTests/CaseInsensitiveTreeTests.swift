import Foundation
import SandboxSupport
import Testing

/// The tree must clone on a Mac, whose disk ignores case (and Unicode normalization): no two
/// tracked paths, files or folders, may differ only in those.
@Suite struct CaseInsensitiveTreeTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Groups of distinct paths (every file and every folder above it) that one case-insensitive,
    /// normalization-insensitive disk would store as one.
    static func collisions(_ files: [String]) -> [[String]] {
        // Spellings are kept as bytes: Swift's String equality already ignores normalization.
        var spellings: [String: Set<[UInt8]>] = [:]
        for file in files {
            let parts = file.split(separator: "/")
            for end in parts.indices {
                let path = parts[...end].joined(separator: "/")
                spellings[path.precomposedStringWithCanonicalMapping.lowercased(), default: []].insert(Array(path.utf8))
            }
        }
        return spellings.values.filter { $0.count > 1 }
            .map { $0.map { String(decoding: $0, as: UTF8.self) }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) } }
            .sorted { Array($0[0].utf8).lexicographicallyPrecedes(Array($1[0].utf8)) }
    }

    @Test func foldersThatDifferOnlyInCaseCollide() {
        #expect(Self.collisions(["Sources/botops/Ping.swift", "Sources/BotOps/Config.swift"]) == [["Sources/BotOps", "Sources/botops"]])
        #expect(Self.collisions(["README.md", "readme.md"]) == [["README.md", "readme.md"]])
        #expect(Self.collisions(["caf\u{E9}.txt", "cafe\u{301}.txt"]).count == 1)
        #expect(Self.collisions(["Sources/BotOpsKit/Verify.swift", "Sources/botops/Verify.swift"]).isEmpty)
    }

    @Test func noTrackedPathsDifferOnlyInCase() async throws {
        let listing = await onOwnThread { Self.trackedFiles() }
        let files = try listing.get()
        #expect(files.count > 100, "git ls-files listed only \(files.count) files")
        #expect(Self.collisions(files) == [], "these paths are one path on a case-insensitive disk (a Mac's): rename one of each group")
    }

    /// `git ls-files` of this checkout (run on a thread of its own: it blocks).
    static func trackedFiles() -> Result<[String], TreeListingFailed> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", repositoryRoot.path, "ls-files", "-z"]
        let output = Pipe()
        process.standardOutput = output
        do { try process.run() } catch { return .failure(TreeListingFailed(description: "cannot run git: \(error)")) }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(TreeListingFailed(description: "git ls-files failed in \(repositoryRoot.path) (status \(process.terminationStatus))"))
        }
        return .success(data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
    }
}

struct TreeListingFailed: Error, CustomStringConvertible {
    var description: String
}
