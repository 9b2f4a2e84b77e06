@testable import BotOpsKit
import Foundation
import HostCommands
import Remote
import Testing

/// Recover reads the database's volume through deploy's probe of the db container
/// (`RunningDatabase`), on `docker inspect` output captured from the sandbox (docker 20.10).
@Suite struct RecoverVolumeReadingTests {
    /// The sandbox's db: the volume at postgres' default data directory, PGDATA (a folder of it)
    /// set by the entrypoint only, so not in the container's environment.
    static let sandboxDB = #"""
        true
        {"com.docker.compose.config-hash":"3be652b8d3a75837db5f608c48baa2e81247ddf89a9d5f8ed14065db7e231e09","com.docker.compose.container-number":"1","com.docker.compose.oneoff":"False","com.docker.compose.project":"bot","com.docker.compose.project.config_files":"docker-compose.aws.yml","com.docker.compose.project.environment_file":".env","com.docker.compose.project.working_dir":"/opt/bot","com.docker.compose.service":"db","com.docker.compose.version":"1.29.2"}
        [{"Type":"bind","Source":"/opt/bot/db","Destination":"/docker-entrypoint","Mode":"ro","RW":false,"Propagation":"rprivate"},{"Type":"volume","Name":"bottrader-aws_pg_data","Source":"/var/lib/docker/volumes/bottrader-aws_pg_data/_data","Destination":"/var/lib/postgresql/data","Driver":"local","Mode":"rw","RW":true,"Propagation":""}]
        """#

    /// A container with its volume mounted above the data directory and PGDATA two folders down
    /// in it (`docker run -v VOLUME:/var/lib/postgresql -e PGDATA=/var/lib/postgresql/data/pgdata`).
    /// Recover's own template read only a mount at /var/lib/postgresql/data: no volume here.
    static let mountedAbove = #"""
        true
        {"com.docker.compose.project":"bottrader-aws","com.docker.compose.service":"db"}
        [{"Type":"volume","Name":"botops-probe-capture","Source":"/var/lib/docker/volumes/botops-probe-capture/_data","Destination":"/var/lib/postgresql","Driver":"local","Mode":"z","RW":true,"Propagation":""}]
        /var/lib/postgresql/data/pgdata
        """#

    @Test func theVolumeAtTheDefaultDataDirectoryIsFound() throws {
        let database = try #require(RunningDatabase.read(stdout: Self.sandboxDB, container: "db"))
        #expect(database.data == .volume("bottrader-aws_pg_data") && database.project == "bot" && database.running)
        #expect(database.dataSubdirectory == "")
    }

    @Test func aVolumeMountedAboveTheDataDirectoryIsFoundWithPGDATAsPathInIt() throws {
        let database = try #require(RunningDatabase.read(stdout: Self.mountedAbove, container: "c"))
        #expect(database.data == .volume("botops-probe-capture") && database.project == "bottrader-aws")
        #expect(database.mountPoint == "/var/lib/postgresql" && database.dataSubdirectory == "data/pgdata")
        // The volume check looks for PG_VERSION there too (the glob sees only one folder down).
        #expect(RecoverFacts.volumeCheck("botops-probe-capture", imageOf: "c", subdirectory: database.dataSubdirectory).script.text
            .hasSuffix("volume_check botops-probe-capture \"$image\" data/pgdata"))
    }

    /// A stopped container is still read (recover starts it; deploy refuses it).
    @Test func aStoppedContainerIsReadAndOnlyDeployRefusesIt() throws {
        let stopped = "false" + Self.mountedAbove.dropFirst("true".count)
        let database = try #require(RunningDatabase.read(stdout: stopped, container: "c"))
        #expect(!database.running && database.data == .volume("botops-probe-capture"))
        #expect(throws: DeployError.databaseNotRunning(container: "c", state: "it is not running")) {
            try RunningDatabase.parse(stdout: stopped, stderr: "", container: "c")
        }
        #expect(RunningDatabase.read(stdout: "", container: "c") == nil)
    }

    /// The services' compose project, read by the label's one parser.
    @Test func theServicesProjectLabelIsReadByTheOneParser() throws {
        let probe = ComposeProjectLabel.probe(containers: ["a", "b", "c"], timeout: .seconds(30))
        func projects(_ stdout: String, _ termination: Termination = .exited(0)) throws -> Set<String> {
            try probe.parse(CommandResult(termination: termination, stdout: Array(stdout.utf8), stderr: []))
        }
        let labels = Self.sandboxDB.split(separator: "\n")[1]
        #expect(try projects("\(labels)\n\(labels)\nnull\n{\"com.docker.compose.project\":\"\"}\n") == ["bot"])
        #expect(try projects("\(labels)\n{\"com.docker.compose.project\":\"other\"}\n") == ["bot", "other"])
        #expect(try projects("\(labels)\n", .exited(1)) == [])
    }
}
