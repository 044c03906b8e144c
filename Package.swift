// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "kiln",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kiln", targets: ["kiln"]),
        .library(name: "KilnOCI", targets: ["KilnOCI"]),
        .library(name: "KilnArchive", targets: ["KilnArchive"]),
        .library(name: "KilnStore", targets: ["KilnStore"]),
        .library(name: "KilnRegistry", targets: ["KilnRegistry"]),
        .library(name: "KilnRuntime", targets: ["KilnRuntime"]),
        .library(name: "KilnGraph", targets: ["KilnGraph"]),
        .library(name: "KilnSolver", targets: ["KilnSolver"]),
        .library(name: "KilnDockerfile", targets: ["KilnDockerfile"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .target(
            name: "KilnOCI",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CKilnLinux"),
        .target(name: "KilnArchive", dependencies: ["KilnOCI", "CZlib", "CZstd", "CKilnLinux"]),
        .target(name: "KilnStore", dependencies: ["KilnOCI", "KilnArchive", "CKilnLinux"]),
        .target(
            name: "KilnRegistry",
            dependencies: [
                "KilnOCI", "KilnStore", "KilnArchive",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(name: "KilnRuntime", dependencies: ["KilnOCI", "KilnStore", "CKilnLinux"]),
        .target(name: "KilnGraph", dependencies: ["KilnOCI"]),
        .target(name: "KilnReporting", dependencies: ["KilnOCI"]),
        .target(
            name: "KilnSolver",
            dependencies: [
                "KilnGraph", "KilnOCI", "KilnStore", "KilnRuntime", "KilnRegistry", "KilnArchive", "CKilnLinux",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .target(name: "KilnDockerfile", dependencies: ["KilnGraph", "KilnOCI"]),
        .target(
            name: "KilnCommands",
            dependencies: [
                "KilnDockerfile", "KilnGraph", "KilnOCI", "KilnStore", "KilnArchive", "KilnRegistry", "KilnRuntime", "KilnSolver", "KilnReporting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "kiln", dependencies: ["KilnCommands"]),
        // Helpers for tests that need real services (a loopback registry); not part of any product.
        .target(
            name: "KilnTestSupport",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "KilnOCITests", dependencies: ["KilnOCI"]),
        .testTarget(name: "KilnRegistryTests", dependencies: ["KilnRegistry", "KilnStore", "KilnOCI", "KilnTestSupport"]),
        .testTarget(name: "KilnStoreTests", dependencies: ["KilnStore", "KilnArchive", "CKilnLinux"]),
        .testTarget(name: "KilnArchiveTests", dependencies: ["KilnArchive", "CKilnLinux"]),
        .testTarget(name: "KilnGraphTests", dependencies: ["KilnGraph"]),
        .testTarget(name: "KilnSolverTests", dependencies: ["KilnSolver", "KilnGraph", "KilnOCI"]),
        .testTarget(
            name: "KilnRuntimeTests", dependencies: ["KilnRuntime", "KilnStore", "KilnArchive", "KilnOCI", "KilnTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "KilnDockerfileTests", dependencies: ["KilnDockerfile", "KilnGraph", "KilnTestSupport"]),
        .testTarget(name: "KilnCommandsTests", dependencies: ["KilnCommands", "KilnArchive", "kiln", "KilnTestSupport"]),
    ]
)
