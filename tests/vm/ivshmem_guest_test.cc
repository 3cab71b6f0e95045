// The guest library against a fake sysfs tree (no VM): discovery by vendor/device, BAR
// mappings, the doorbell register, and one distinct error per failure a guest can meet.
// resource2 is a real region file made by vshm_region_create, resource0 a 256-byte file.
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
	int Open(vivg_dev **d, vshm_check *c, vshm_err *err)
	{
		vivg_opts o{};
		o.sysfs = root_.c_str();
		return vivg_open(&o, d, c, err);
	}
	std::string root_, dev_;
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

} // namespace
