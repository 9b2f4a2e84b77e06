@testable import BotOpsKit
import Foundation
import Testing

/// The ELF reader install-host judges a binary with, on a real executable: this test binary.
@Suite struct ELFFactsTests {
    static let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path

    @Test func readsMachineNeededLibrariesAndGlibcOfARealExecutable() throws {
        let facts = try ELFFacts(path: Self.me)
        #if arch(x86_64)
        #expect(facts.machine == "x86_64")
        #elseif arch(arm64)
        #expect(facts.machine == "aarch64")
        #endif
        // A debug test binary links the Swift runtime dynamically, and glibc with versioned symbols.
        #expect(facts.needed.contains("libswiftCore.so"))
        #expect(facts.needed.contains("libc.so.6"))
        #expect(facts.swiftRuntimeLibraries.contains("libswiftCore.so"))
        #expect(try #require(facts.glibc) >= GlibcVersion("2.2.5")!)
    }

    /// Damaged files (cut anywhere, bytes overwritten) give an error or some facts, never a crash.
    @Test func damagedFilesNeverCrashTheReader() throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: Self.me), options: .alwaysMapped)
        var generator = SystemRandomNumberGenerator()
        for cut in [0, 3, 63, 64, 65, 4096, whole.count / 2, whole.count - 1] {
            _ = try? ELFFacts(bytes: whole.prefix(cut), path: "cut")
        }
        let head = Data(whole.prefix(1 << 20))
        for _ in 0..<200 {
            var damaged = head + Data(whole.suffix(4096))
            for _ in 0..<16 {
                damaged[Int.random(in: 0..<min(damaged.count, 256), using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? ELFFacts(bytes: damaged, path: "damaged")
        }
        #expect(throws: ELFError.self) { try ELFFacts(bytes: Data("#!/bin/sh\necho hi\n".utf8), path: "script") }
    }
}
