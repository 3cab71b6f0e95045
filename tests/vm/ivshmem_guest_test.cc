// The guest library against a fake sysfs tree (no VM): discovery by vendor/device, BAR
// mappings, the doorbell register, and one distinct error per failure a guest can meet.
// resource2 is a real region file made by vshm_region_create, resource0 a 256-byte file.
// The guest driver (vmm-glue/guest-driver) is faked the way sysfs shows it: a
// misc/vaccel-ivshmem0 folder in the device's folder, and a "node" in a fake /dev.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>

#include "shm/region.h"
#include "vmm-glue/guest/ivshmem_guest.h"

namespace {

std::string TmpDir()
{
	const char *t = getenv("TEST_TMPDIR");
	return t ? t : "/tmp";
}

void WriteFile(const std::string &path, const std::string &text)
{
	std::ofstream f(path);
	f << text;
}

// A fake /sys/bus/pci/devices with an e1000 and (optionally) an ivshmem device.
class FakeSysfs : public ::testing::Test {
      protected:
	void SetUp() override
	{
		root_ = TmpDir() + "/sysfs-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
		std::string cmd = "rm -rf '" + root_ + "' && mkdir -p '" + root_ + "/0000:00:03.0'";
		ASSERT_EQ(system(cmd.c_str()), 0);
		WriteFile(root_ + "/0000:00:03.0/vendor", "0x8086\n");
		WriteFile(root_ + "/0000:00:03.0/device", "0x100e\n");
	}
	void TearDown() override
	{
		vshm_region_close(region_);
		std::string cmd = "rm -rf '" + root_ + "'";
		(void)!system(cmd.c_str());
	}
	// Adds the ivshmem device with a real region of `size` bytes in resource2.
	std::string AddIvshmem(uint64_t size = 64 * 1024)
	{
		dev_ = root_ + "/0000:00:04.0";
		EXPECT_EQ(mkdir(dev_.c_str(), 0755), 0);
		WriteFile(dev_ + "/vendor", "0x1af4\n");
		WriteFile(dev_ + "/device", "0x1110\n");
		WriteFile(dev_ + "/resource0", std::string(256, '\0'));
		vshm_layout l;
		vshm_layout_init(&l);
		EXPECT_EQ(vshm_layout_add(&l, VSHM_AREA_RAW, 0, 4096, 0, 0), 0);
		vshm_opts o{};
		o.size = size;
		o.backing = VSHM_BACK_FILE;
		std::string p = dev_ + "/resource2";
		o.path = p.c_str();
		o.numa_cpu = -1;
		o.pow2 = 1;
		vshm_err err{};
		EXPECT_EQ(vshm_region_create(&o, &l, &region_, &err), 0) << err.msg;
		return dev_;
	}
	// Binds the fake driver: the region moves to devdir_/vaccel-ivshmem0 (the node) and
	// resource2 becomes zeros of the same size, so mapping the wrong file fails loudly
	// (bad magic). make_node false: the driver is bound but its node is missing.
	void AddDriver(const std::string &cache_mode, bool make_node = true)
	{
		std::string misc = dev_ + "/misc/vaccel-ivshmem0";
		devdir_ = root_ + "/dev";
		std::string cmd = "mkdir -p '" + misc + "' '" + devdir_ + "'";
		ASSERT_EQ(system(cmd.c_str()), 0);
		WriteFile(misc + "/cache_mode", cache_mode + "\n");
		WriteFile(misc + "/size", "65536\n");
		std::string node = devdir_ + "/vaccel-ivshmem0";
		if (make_node)
			ASSERT_EQ(rename((dev_ + "/resource2").c_str(), node.c_str()), 0);
		else
			ASSERT_EQ(unlink((dev_ + "/resource2").c_str()), 0);
		WriteFile(dev_ + "/resource2", std::string(64 * 1024, '\0'));
	}
	int Open(vivg_dev **d, vshm_check *c, vshm_err *err)
	{
		vivg_opts o{};
		o.sysfs = root_.c_str();
		o.devdir = devdir_.empty() ? nullptr : devdir_.c_str();
		return vivg_open(&o, d, c, err);
	}
	std::string root_, dev_, devdir_;
	vshm_region *region_ = nullptr;
};

TEST_F(FakeSysfs, NoDeviceIsENODEV)
{
	char path[512];
	EXPECT_EQ(vivg_find(root_.c_str(), path, sizeof(path)), -ENODEV);
	vivg_dev *d = nullptr;
	vshm_err err{};
	EXPECT_EQ(Open(&d, nullptr, &err), -ENODEV);
	EXPECT_EQ(d, nullptr);
	EXPECT_NE(std::string(err.msg).find("no ivshmem PCI device"), std::string::npos) << err.msg;
}

TEST_F(FakeSysfs, MissingSysfsFolderIsENOENT)
{
	char path[512];
	EXPECT_EQ(vivg_find((root_ + "/nope").c_str(), path, sizeof(path)), -ENOENT);
}

TEST_F(FakeSysfs, FindsMapsAndAttaches)
{
	AddIvshmem();
	char path[512];
	ASSERT_EQ(vivg_find(root_.c_str(), path, sizeof(path)), 0);
	EXPECT_EQ(std::string(path), dev_);
	// A name-only path buffer too short for the path.
	EXPECT_EQ(vivg_find(root_.c_str(), path, 8), -ENAMETOOLONG);

	vivg_dev *d = nullptr;
	vshm_check c = VSHM_CHECK_MAX;
	vshm_err err{};
	ASSERT_EQ(Open(&d, &c, &err), 0) << err.msg;
	EXPECT_EQ(c, VSHM_OK);
	EXPECT_EQ(d->mem_size, 64u * 1024);
	// No driver bound: sysfs resource2, which the PCI core maps uncached.
	EXPECT_EQ(d->bar2_via, VIVG_BAR2_SYSFS);
	EXPECT_EQ(std::string(d->bar2_path), dev_ + "/resource2");
	EXPECT_STREQ(d->bar2_cache, "uncached");
	ASSERT_NE(d->regs, nullptr);
	EXPECT_EQ(d->regs_size, 256u);
	const vshm_area *a = nullptr;
	auto *raw = static_cast<uint64_t *>(vshm_region_area(d->region, VSHM_AREA_RAW, 0, &a));
	ASSERT_NE(raw, nullptr);
	// Shared: a write through the guest mapping is visible through the host's.
	raw[0] = 0x1122334455667788ull;
	auto *host = static_cast<uint64_t *>(vshm_region_area(region_, VSHM_AREA_RAW, 0, nullptr));
	EXPECT_EQ(host[0], 0x1122334455667788ull);

	// BAR0: IVPosition at 8, doorbell at 12.
	const_cast<uint32_t *>(d->regs)[2] = 5;
	EXPECT_EQ(vivg_own_id(d), 5);
	EXPECT_EQ(vivg_ring(d, 3, 1), 0);
	EXPECT_EQ(d->regs[3], (3u << 16) | 1u);
	EXPECT_EQ(vivg_ring(d, 0x10000, 0), -EINVAL);
	vivg_close(d);
}

TEST_F(FakeSysfs, ExplicitDeviceMustBeIvshmem)
{
	AddIvshmem();
	vivg_opts o{};
	o.sysfs = root_.c_str();
	o.device = "0000:00:03.0";
	vivg_dev *d = nullptr;
	vshm_err err{};
	EXPECT_EQ(vivg_open(&o, &d, nullptr, &err), -ENODEV);
	o.device = "0000:00:04.0";
	ASSERT_EQ(vivg_open(&o, &d, nullptr, &err), 0) << err.msg;
	vivg_close(d);
}

TEST_F(FakeSysfs, BadMagicIsEBADMSG)
{
	AddIvshmem();
	vshm_region_header(region_)->magic = 0;
	vivg_dev *d = nullptr;
	vshm_check c = VSHM_OK;
	vshm_err err{};
	EXPECT_EQ(Open(&d, &c, &err), -EBADMSG);
	EXPECT_EQ(c, VSHM_E_MAGIC);
	EXPECT_NE(std::string(err.msg).find("bad magic"), std::string::npos) << err.msg;
	EXPECT_STRNE(vivg_strerror(-EBADMSG), vivg_strerror(-EMSGSIZE));
}

TEST_F(FakeSysfs, WrongVersionIsEPROTONOSUPPORT)
{
	AddIvshmem();
	vshm_region_header(region_)->version = VSHM_VERSION + 1;
	vivg_dev *d = nullptr;
	vshm_check c = VSHM_OK;
	EXPECT_EQ(Open(&d, &c, nullptr), -EPROTONOSUPPORT);
	EXPECT_EQ(c, VSHM_E_VERSION);
}

TEST_F(FakeSysfs, BarSmallerThanHeaderSaysIsEMSGSIZE)
{
	AddIvshmem(64 * 1024);
	// The BAR (file) shrinks below what the header claims.
	ASSERT_EQ(truncate((dev_ + "/resource2").c_str(), 16 * 1024), 0);
	vivg_dev *d = nullptr;
	vshm_check c = VSHM_OK;
	vshm_err err{};
	EXPECT_EQ(Open(&d, &c, &err), -EMSGSIZE);
	EXPECT_EQ(c, VSHM_E_REGION_SIZE);
	EXPECT_NE(std::string(err.msg).find("16384-byte BAR"), std::string::npos) << err.msg;
}

TEST_F(FakeSysfs, OtherHeaderDefectIsEPROTO)
{
	AddIvshmem();
	vshm_region_header(region_)->areas[0].offset = 100; // misaligned
	vivg_dev *d = nullptr;
	vshm_check c = VSHM_OK;
	EXPECT_EQ(Open(&d, &c, nullptr), -EPROTO);
	EXPECT_EQ(c, VSHM_E_AREA_ALIGN);
}

TEST_F(FakeSysfs, UnreadableBarIsEACCES)
{
	AddIvshmem();
	ASSERT_EQ(chmod((dev_ + "/resource2").c_str(), 0), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		// Root ignores file modes through CAP_DAC_OVERRIDE: drop every capability, as an
		// unprivileged guest process would lack them.
		__user_cap_header_struct h{};
		__user_cap_data_struct caps[2] = {};
		h.version = _LINUX_CAPABILITY_VERSION_3;
		if (syscall(SYS_capset, &h, caps) != 0)
			_exit(3);
		vivg_dev *d = nullptr;
		vshm_err err{};
		int r = Open(&d, nullptr, &err);
		_exit(r == -EACCES || r == -EPERM ? 0 : 1);
	}
	int st = 0;
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(WEXITSTATUS(st), 0) << "3: capset failed, 1: not EACCES";
}

TEST_F(FakeSysfs, DriverNodeIsPreferred)
{
	AddIvshmem();
	AddDriver("write-back");
	vivg_dev *d = nullptr;
	vshm_check c = VSHM_CHECK_MAX;
	vshm_err err{};
	ASSERT_EQ(Open(&d, &c, &err), 0) << err.msg;
	EXPECT_EQ(c, VSHM_OK);
	EXPECT_EQ(d->bar2_via, VIVG_BAR2_DRIVER);
	EXPECT_STREQ(vivg_bar2_via_str(d->bar2_via), "driver");
	EXPECT_EQ(std::string(d->bar2_path), devdir_ + "/vaccel-ivshmem0");
	EXPECT_STREQ(d->bar2_cache, "write-back");
	EXPECT_EQ(d->mem_size, 64u * 1024);
	// BAR0 still comes from sysfs resource0 (registers stay uncached).
	ASSERT_NE(d->regs, nullptr);
	auto *raw = static_cast<uint64_t *>(vshm_region_area(d->region, VSHM_AREA_RAW, 0, nullptr));
	ASSERT_NE(raw, nullptr);
	raw[1] = 0xfeedull;
	auto *host = static_cast<uint64_t *>(vshm_region_area(region_, VSHM_AREA_RAW, 0, nullptr));
	EXPECT_EQ(host[1], 0xfeedull);
	vivg_close(d);
}

TEST_F(FakeSysfs, DriverIgnoredWhenAskedOrWhenAFileIsNamed)
{
	AddIvshmem();
	AddDriver("write-back");
	vivg_opts o{};
	o.sysfs = root_.c_str();
	o.devdir = devdir_.c_str();
	vivg_dev *d = nullptr;
	vshm_err err{};
	vshm_check c = VSHM_OK;
	// no_driver: resource2, here zeros (bad magic), so the driver's node was not used.
	o.no_driver = 1;
	EXPECT_EQ(vivg_open(&o, &d, &c, &err), -EBADMSG);
	EXPECT_EQ(c, VSHM_E_MAGIC);
	EXPECT_NE(std::string(err.msg).find("0000:00:04.0/resource2)"), std::string::npos) << err.msg;
	// A named file in the device's folder wins over the driver too.
	o.no_driver = 0;
	o.bar2_file = "resource2";
	EXPECT_EQ(vivg_open(&o, &d, &c, &err), -EBADMSG);
	// An absolute path is used as it is.
	std::string node = devdir_ + "/vaccel-ivshmem0";
	o.bar2_file = node.c_str();
	ASSERT_EQ(vivg_open(&o, &d, &c, &err), 0) << err.msg;
	EXPECT_EQ(d->bar2_via, VIVG_BAR2_PATH);
	EXPECT_EQ(std::string(d->bar2_path), node);
	EXPECT_STREQ(d->bar2_cache, "");
	vivg_close(d);
}

TEST_F(FakeSysfs, DriverBoundWithoutNodeIsENOENT)
{
	AddIvshmem();
	AddDriver("write-back", false);
	vivg_dev *d = nullptr;
	vshm_err err{};
	EXPECT_EQ(Open(&d, nullptr, &err), -ENOENT);
	EXPECT_EQ(d, nullptr);
	std::string m = err.msg;
	EXPECT_NE(m.find("vaccel_ivshmem driver is bound but"), std::string::npos) << m;
	EXPECT_NE(m.find("/dev/vaccel-ivshmem0 does not exist"), std::string::npos) << m;
	EXPECT_NE(m.find("devtmpfs"), std::string::npos) << m;
}

TEST_F(FakeSysfs, DriverCacheModeIsReportedAsItIs)
{
	// A driver that could not get write-back says so in cache_mode; the library passes
	// that on rather than assuming.
	AddIvshmem();
	AddDriver("uncached-minus");
	vivg_dev *d = nullptr;
	vshm_err err{};
	ASSERT_EQ(Open(&d, nullptr, &err), 0) << err.msg;
	EXPECT_EQ(d->bar2_via, VIVG_BAR2_DRIVER);
	EXPECT_STREQ(d->bar2_cache, "uncached-minus");
	vivg_close(d);
}

TEST_F(FakeSysfs, MiscEntriesOfOtherDriversAreNotTheNode)
{
	AddIvshmem();
	std::string cmd = "mkdir -p '" + dev_ + "/misc/vaccel-ivshmemx' '" + dev_ + "/misc/other0'";
	ASSERT_EQ(system(cmd.c_str()), 0);
	vivg_dev *d = nullptr;
	vshm_err err{};
	ASSERT_EQ(Open(&d, nullptr, &err), 0) << err.msg;
	EXPECT_EQ(d->bar2_via, VIVG_BAR2_SYSFS);
	vivg_close(d);
}

TEST_F(FakeSysfs, CharacterDeviceSizeComesFromLseek)
{
	// A device node has no st_size; its size is lseek(SEEK_END), which /dev/null
	// reports as 0: an empty BAR, not a mapping of 0 bytes.
	AddIvshmem();
	vivg_opts o{};
	o.sysfs = root_.c_str();
	o.bar2_file = "/dev/null";
	vivg_dev *d = nullptr;
	vshm_err err{};
	EXPECT_EQ(vivg_open(&o, &d, nullptr, &err), -ENODEV);
	EXPECT_NE(std::string(err.msg).find("/dev/null is empty"), std::string::npos) << err.msg;
}

} // namespace
