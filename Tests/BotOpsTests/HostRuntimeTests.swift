@testable import BotOpsKit
import Testing

/// install-host's judgement of "can the host run this binary", on facts as the probe and the ELF
/// reader give them: each problem names what to do (the Debian package, the build flag).
@Suite struct HostRuntimeTests {
    static let bookworm = HostRuntime(machine: "x86_64", glibc: GlibcVersion("2.36"),
                                      libraries: ["libc.so.6", "libm.so.6", "libssh2.so.1", "libcrypto.so.3", "libz.so.1", "libstdc++.so.6", "libgcc_s.so.1"])
    static let staticBotops = ELFFacts(machine: "x86_64", needed: ["libssh2.so.1", "libcrypto.so.3", "libm.so.6", "libc.so.6", "ld-linux-x86-64.so.2"],
                                       glibc: GlibcVersion("2.34"))

    @Test func aStaticallyLinkedBuildRunsOnBookworm() {
        #expect(Self.bookworm.problems(running: Self.staticBotops) == [])
    }

    @Test func eachMissingPieceIsNamedWithItsFix() {
        var host = Self.bookworm
        host.libraries?.remove("libssh2.so.1")
        host.glibc = GlibcVersion("2.31")
        host.machine = "aarch64"
        var binary = Self.staticBotops
        binary.needed += ["libswiftCore.so", "libFoundation.so", "libpq.so.5"]
        let problems = host.problems(running: binary)
        #expect(problems == [.swiftRuntime(["libswiftCore.so", "libFoundation.so"]), .machine(binary: "x86_64", host: "aarch64"),
                             .glibc(needed: GlibcVersion("2.34")!, host: GlibcVersion("2.31")),
                             .missingLibrary("libssh2.so.1"), .missingLibrary("libpq.so.5")])
        let text = problems.map(\.description)
        #expect(text[0].contains("swift build -c release --static-swift-stdlib"))
        #expect(text[2].contains("needs glibc 2.34 and the host has 2.31"))
        #expect(text[3].contains("apt-get install libssh2-1"))
        #expect(text[4].contains("apt-get install libpq5"))
    }

    /// Swift 6's Foundation links lib_FoundationICU.so too: the Swift runtime, not an apt package.
    @Test func everySwiftRuntimeLibraryIsNamedAsSuch() {
        var binary = Self.staticBotops
        binary.needed += ["libswiftCore.so", "libFoundationEssentials.so", "lib_FoundationICU.so", "libswift_Concurrency.so", "libdispatch.so"]
        #expect(Self.bookworm.problems(running: binary) == [
            .swiftRuntime(["libswiftCore.so", "libFoundationEssentials.so", "lib_FoundationICU.so", "libswift_Concurrency.so", "libdispatch.so"]),
        ])
    }

    @Test func glibcVersionsCompareNumerically() {
        #expect(GlibcVersion("2.9")! < GlibcVersion("2.10")!)
        #expect(GlibcVersion("2.36")! > GlibcVersion("2.3.4")!)
        #expect(GlibcVersion("PRIVATE") == nil)
    }

    @Test func theProbeParsesLddAndLdconfig() {
        let probe = HostRuntime.Probe()
        let m = probe.marker.text
        let output = """
            \(m) machine
            x86_64
            \(m) glibc
            ldd (Debian GLIBC 2.36-9+deb12u4) 2.36
            \(m) libraries
            512 libs found in cache `/etc/ld.so.cache'
            \tlibssh2.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libssh2.so.1
            \tlibc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6
            \(m) end

            """
        #expect(probe.parse(output) == HostRuntime(machine: "x86_64", glibc: GlibcVersion("2.36"), libraries: ["libssh2.so.1", "libc.so.6"]))
        // A 32-bit (i386) copy is no library for an x86_64 binary: the loader would not take it.
        let multiarch = output.replacing("\(m) end", with: "\tlibpq.so.5 (libc6) => /lib/i386-linux-gnu/libpq.so.5\n\(m) end")
        #expect(probe.parse(multiarch).libraries == ["libssh2.so.1", "libc.so.6"])
        let noLdconfig = output.replacing("512 libs", with: "@@no-ldconfig\n512 libs")
        #expect(probe.parse(noLdconfig).libraries == nil)
        #expect(Self.bookworm.problems(running: Self.staticBotops).isEmpty)
        var unknown = Self.bookworm
        unknown.libraries = nil
        #expect(unknown.problems(running: Self.staticBotops) == [.unknownLibraries])
    }
}
