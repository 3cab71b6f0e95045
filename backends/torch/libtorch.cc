// SPDX-License-Identifier: Apache-2.0
// Everything of the torch plugin that speaks libtorch: the model cache,
// tensor conversion, forward, sgemm. The product's only C++ file; each
// extern "C" entry point runs its body under _guard(), which turns every
// exception into -errno plus a log line with libtorch's message.
#include "libtorch.h"

#include <ATen/Parallel.h>
#include <c10/core/CPUAllocator.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

// Dims per tensor we accept; libtorch itself has no small limit, and no
// model in practice needs more.
constexpr int64_t kMaxDims = 32;

// A loaded model, and whether forward() may read its inputs where they lie
// (see _plain_reads).
struct Model {
	torch::jit::Module m;
	bool in_place = false;
};

// Cache of loaded models by (session id, resource id). A Module is a
// reference-counted handle: a run copies it out under the lock, so a
// concurrent forget never frees a module in use.
std::mutex cache_lock;
std::map<std::pair<int64_t, int64_t>, Model> cache;

// libtorch's own CPU allocator hands out malloc's memory, so where a model's
// weights and activations land, and with it how fast the model runs, follows
// the process's history: on the test VM the same CNN ran steadily at 2.1 ms in
// one process and 2.8 ms in the next (malloc's placement within pages), and
// still 13% apart with every big tensor on a page boundary. Its convolution's
// working set is about the size of the L2 cache, which is indexed by physical
// address: through 4 KiB pages, which physical pages a process happened to
// get decides how much of it spills. Steady, installed by
// ltorch_steady_allocator, makes the placement the same in every process:
// tensors of kBigBlock bytes or more are carved, page-aligned and lowest
// address first, out of an arena of 2 MiB-aligned chunks on transparent huge
// pages, where an address's offset in its 2 MiB page is its physical one. A
// model asks for the same sizes in the same order on every run, so it gets
// the same blocks back run after run, in every process. Freed ranges merge
// with their neighbours in the chunk; past the arena's limit, or without
// huge pages, big tensors still start on a page (from malloc). Smaller ones
// come from malloc, 64-byte aligned as libtorch's.
// Tensors of different guests share the arena, and TorchScript can return an
// uninitialized tensor (torch.empty): a block is handed to one owner (the
// session running the model, see Owner) with nothing of another in it. A
// range last held by another owner, or by a thread of no session's
// (libtorch's own threads, sgemm), is zeroed when taken; a malloc'd block
// is zeroed when handed out.
constexpr size_t kPage = 4096;
constexpr size_t kBigBlock = 16384;
constexpr size_t kHeader = 64;
constexpr size_t kHuge = 2u << 20;
constexpr size_t kChunk = 16u << 20;

// The owner of what is allocated now on this thread: a session's id while
// the plugin runs its model, else kNoOwner. Owner sets it for a scope.
constexpr int64_t kNoOwner = -1;
constexpr int64_t kClean = -2; // a range never handed out: mmap's zeroes
thread_local int64_t steady_owner = kNoOwner;

class Owner {
public:
	explicit Owner(int64_t id) : saved_(steady_owner) { steady_owner = id; }
	~Owner() { steady_owner = saved_; }
	Owner(const Owner &) = delete;
	Owner &operator=(const Owner &) = delete;

private:
	int64_t saved_;
};

// Before the data of a malloc'd block (small, or big past the arena).
struct Header {
	void *base; // what posix_memalign gave
};

struct Range {
	size_t bytes;
	int64_t owner; // who last held it, or kClean
};

struct Arena {
	std::map<uintptr_t, size_t> chunks; // start -> bytes, both kHuge multiples
	std::map<uintptr_t, Range> free; // by address; merged within a chunk
	std::unordered_map<uintptr_t, Range> live; // handed out, by start
	size_t reserved = 0, used = 0, limit = 0;
};

std::mutex steady_lock;
// Never destroyed: a tensor may be freed during or after exit's destructors.
Arena &arena = *new Arena;

// The chunk holding address a, or chunks.end().
std::map<uintptr_t, size_t>::iterator _chunk_of(uintptr_t a)
{
	auto it = arena.chunks.upper_bound(a);
	if (it == arena.chunks.begin())
		return arena.chunks.end();
	--it;
	return a - it->first < it->second ? it : arena.chunks.end();
}

// Whether memory last held by prev must be zeroed before now gets it: not
// mmap's zeroes, and not a session's own; kNoOwner is anyone.
bool _must_zero(int64_t prev, int64_t now)
{
	return prev != kClean && (prev != now || now == kNoOwner);
}

// The owner of two neighbouring free ranges merged, or false if they stay
// apart (a clean range joins any other).
bool _merged_owner(int64_t x, int64_t y, int64_t *out)
{
	if (x != y && x != kClean && y != kClean)
		return false;
	*out = x == kClean ? y : x;
	return true;
}

// Gives [a, a + r.bytes) back to the free ranges, merged with neighbours of
// the same chunk. May throw std::bad_alloc (a map node).
void _arena_put(uintptr_t a, Range r)
{
	auto c = _chunk_of(a);
	uintptr_t lo = c->first, hi = c->first + c->second;
	auto next = arena.free.lower_bound(a);
	int64_t o;
	if (next != arena.free.end() && next->first == a + r.bytes &&
	    next->first < hi && _merged_owner(r.owner, next->second.owner, &o)) {
		r.bytes += next->second.bytes;
		r.owner = o;
		next = arena.free.erase(next);
	}
	if (next != arena.free.begin()) {
		auto prev = std::prev(next);
		if (prev->first >= lo && prev->first + prev->second.bytes == a &&
		    _merged_owner(r.owner, prev->second.owner, &o)) {
			prev->second.bytes += r.bytes;
			prev->second.owner = o;
			return;
		}
	}
	arena.free.emplace(a, r);
}

// Hands out the lowest free range that holds bytes (split), or 0 if none;
// *zero set when the caller must zero it first (outside the lock). May
// throw std::bad_alloc, the arena unchanged.
uintptr_t _arena_take(size_t bytes, bool *zero)
{
	auto it = arena.free.begin();
	while (it != arena.free.end() && it->second.bytes < bytes)
		++it;
	if (it == arena.free.end())
		return 0;
	uintptr_t a = it->first;
	Range r = it->second;
	arena.live.emplace(a, Range{ bytes, steady_owner }); // may throw
	// The rest stays free: the same map node, re-keyed (nothing to
	// allocate, so nothing to fail).
	auto node = arena.free.extract(it);
	if (r.bytes > bytes) {
		node.key() = a + bytes;
		node.mapped().bytes = r.bytes - bytes;
		arena.free.insert(std::move(node));
	}
	arena.used += bytes;
	*zero = _must_zero(r.owner, steady_owner);
	return a;
}

// A new chunk for at least bytes, within the limit: 16 MiB, or what bytes
// needs rounded to 2 MiB. False if past the limit or out of memory.
bool _arena_grow(size_t bytes)
{
	size_t need = (bytes + kHuge - 1) & ~(kHuge - 1);
	size_t n = need > kChunk ? need : kChunk;
	if (arena.reserved + n > arena.limit)
		n = need;
	if (arena.reserved + n > arena.limit || arena.reserved + n < n)
		return false;
	void *m = mmap(nullptr, n + kHuge, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return false;
	uintptr_t raw = (uintptr_t)m, a = (raw + kHuge - 1) & ~(kHuge - 1);
	if (a > raw)
		munmap(m, a - raw);
	if (raw + kHuge > a)
		munmap((void *)(a + n), raw + kHuge - a);
	try {
		auto c = arena.chunks.emplace(a, n).first;
		try {
			arena.free.emplace(a, Range{ n, kClean });
		} catch (...) {
			arena.chunks.erase(c);
			throw;
		}
	} catch (const std::bad_alloc &) {
		munmap((void *)a, n);
		return false;
	}
	// Best effort: without transparent huge pages the blocks still start
	// on pages, as malloc's fallback does.
	madvise((void *)a, n, MADV_HUGEPAGE);
	arena.reserved += n;
	return true;
}

// Unmaps chunks with nothing handed out while the arena is over its limit
// (a free chunk may hold ranges of several owners).
void _arena_trim()
{
	for (auto c = arena.chunks.begin();
	     c != arena.chunks.end() && arena.reserved > arena.limit;) {
		auto first = arena.free.lower_bound(c->first), f = first;
		size_t bytes = 0;
		for (; f != arena.free.end() && f->first < c->first + c->second;
		     ++f)
			bytes += f->second.bytes;
		if (bytes != c->second) {
			++c;
			continue;
		}
		munmap((void *)c->first, c->second);
		arena.free.erase(first, f);
		arena.reserved -= c->second;
		c = arena.chunks.erase(c);
	}
}

// libtorch's deleter: runs in destructors, so it must not throw.
void _steady_release(void *data) noexcept
{
	if (!data)
		return;
	{
		std::lock_guard<std::mutex> g(steady_lock);
		auto it = arena.live.find((uintptr_t)data);
		if (it != arena.live.end()) {
			Range r = it->second;
			arena.live.erase(it);
			arena.used -= r.bytes;
			try {
				_arena_put((uintptr_t)data, r);
			} catch (const std::bad_alloc &) {
				// No memory for a map node: the range is lost
				// to the arena (never handed out again).
			}
			return;
		}
	}
	free(((Header *)((char *)data - kHeader))->base);
}

class Steady final : public c10::Allocator {
public:
	c10::DataPtr allocate(size_t n) const override
	{
		c10::Device cpu(c10::DeviceType::CPU);
		if (n == 0)
			return { nullptr, nullptr, &_steady_release, cpu };
		if (n > SIZE_MAX / 2)
			throw std::bad_alloc();
		void *base = nullptr;
		char *data;
		if (n < kBigBlock) {
			if (posix_memalign(&base, kHeader, kHeader + n))
				throw std::bad_alloc();
			data = (char *)base + kHeader;
		} else {
			size_t bytes = (n + kPage - 1) & ~(kPage - 1);
			uintptr_t a = 0;
			bool zero = false;
			{
				std::lock_guard<std::mutex> g(steady_lock);
				a = _arena_take(bytes, &zero);
				if (!a && _arena_grow(bytes))
					a = _arena_take(bytes, &zero);
			}
			if (a) {
				if (zero)
					memset((void *)a, 0, bytes);
				return { (void *)a, (void *)a,
					 &_steady_release, cpu };
			}
			if (posix_memalign(&base, kPage, kPage + bytes))
				throw std::bad_alloc();
			data = (char *)base + kPage;
		}
		// malloc's memory may have held anything of anyone's (another
		// session's tensor, the plugin's copy of an output).
		memset(data, 0, n);
		((Header *)(data - kHeader))->base = base;
		return { data, data, &_steady_release, cpu };
	}
	c10::DeleterFnPtr raw_deleter() const override
	{
		return &_steady_release;
	}
};

Steady steady;

template <class Body>
int _guard(const char *what, int einval_for_torch_errors, Body &&body)
{
	try {
		return body();
	} catch (const c10::Error &e) {
		vaccel_error("[torch] %s: %s", what,
			     e.what_without_backtrace());
		return einval_for_torch_errors;
	} catch (const std::bad_alloc &) {
		vaccel_error("[torch] %s: out of memory", what);
		return -ENOMEM;
	} catch (const std::exception &e) {
		vaccel_error("[torch] %s: %s", what, e.what());
		return einval_for_torch_errors;
	} catch (...) {
		vaccel_error("[torch] %s: unknown C++ exception", what);
		return -EIO;
	}
}

// t is an int: the field comes from C (or a guest), where any value can be
// stored, and loading an out-of-range value as a C++ enum is undefined.
bool _scalar_type(int t, c10::ScalarType *out)
{
	switch (t) {
	case VACCEL_TORCH_BYTE: *out = at::kByte; return true;
	case VACCEL_TORCH_CHAR: *out = at::kChar; return true;
	case VACCEL_TORCH_SHORT: *out = at::kShort; return true;
	case VACCEL_TORCH_INT: *out = at::kInt; return true;
	case VACCEL_TORCH_LONG: *out = at::kLong; return true;
	case VACCEL_TORCH_HALF: *out = at::kHalf; return true;
	case VACCEL_TORCH_FLOAT: *out = at::kFloat; return true;
	}
	return false;
}

bool _vaccel_type(c10::ScalarType s, enum vaccel_torch_data_type *out)
{
	switch (s) {
	case at::kByte: *out = VACCEL_TORCH_BYTE; return true;
	case at::kChar: *out = VACCEL_TORCH_CHAR; return true;
	case at::kShort: *out = VACCEL_TORCH_SHORT; return true;
	case at::kInt: *out = VACCEL_TORCH_INT; return true;
	case at::kLong: *out = VACCEL_TORCH_LONG; return true;
	case at::kHalf: *out = VACCEL_TORCH_HALF; return true;
	case at::kFloat: *out = VACCEL_TORCH_FLOAT; return true;
	default: return false;
	}
}

// A tensor over t's data: a view (copy == false) or a private copy. The
// description must be consistent: known dtype, 0 <= nr_dims <= kMaxDims,
// dims >= 0, and the product of dims times the element size, computed
// without overflow, equal to t->size.
// On the agent t->data lies in a guest's shared pool, which the guest may
// rewrite at any time. A model's operators may read an input twice and trust
// the first read (bincount sizes its output from max(x), then indexes it with
// x): a model run takes a private copy unless its graph reads its inputs only
// plainly (_plain_reads), as sgemm does.
int _wrap(const struct vaccel_torch_tensor *t, int i, at::Tensor *out,
	  bool copy)
{
	c10::ScalarType st;
	int dtype;
	if (!t) {
		vaccel_error("[torch] input %d is NULL", i);
		return -EINVAL;
	}
	static_assert(sizeof(t->data_type) == sizeof(dtype), "C enum is int");
	memcpy(&dtype, &t->data_type, sizeof(dtype));
	if (!_scalar_type(dtype, &st)) {
		vaccel_error("[torch] input %d: unknown data type %d", i,
			     dtype);
		return -EINVAL;
	}
	if (t->nr_dims < 0 || t->nr_dims > kMaxDims ||
	    (t->nr_dims > 0 && !t->dims)) {
		vaccel_error("[torch] input %d: bad nr_dims %lld", i,
			     (long long)t->nr_dims);
		return -EINVAL;
	}
	uint64_t bytes = c10::elementSize(st);
	for (int64_t d = 0; d < t->nr_dims; d++) {
		if (t->dims[d] < 0 ||
		    __builtin_mul_overflow(bytes, (uint64_t)t->dims[d],
					   &bytes)) {
			vaccel_error("[torch] input %d: bad dim %lld = %lld", i,
				     (long long)d, (long long)t->dims[d]);
			return -EINVAL;
		}
	}
	if (bytes != t->size || (bytes && !t->data)) {
		vaccel_error("[torch] input %d: %zu bytes of data (%s) for "
			     "dims that need %llu",
			     i, t->size, t->data ? "given" : "NULL",
			     (unsigned long long)bytes);
		return -EINVAL;
	}
	std::vector<int64_t> dims(t->dims, t->dims + t->nr_dims);
	auto opts = at::TensorOptions().dtype(st);
	if (!bytes)
		*out = torch::empty(dims, opts);
	else if (copy)
		*out = torch::from_blob(t->data, dims, opts).clone();
	else
		*out = torch::from_blob(t->data, dims, opts);
	return 0;
}

// A new vaccel tensor holding a copy of r (made contiguous). A 0-dim
// result becomes dims {1}: vaccel tensors have at least one dim.
int _unwrap(const at::Tensor &r, int i, struct vaccel_torch_tensor **out)
{
	enum vaccel_torch_data_type vt;
	if (!_vaccel_type(r.scalar_type(), &vt)) {
		vaccel_error("[torch] output %d has dtype %s, which vAccel "
			     "tensors cannot carry",
			     i, c10::toString(r.scalar_type()));
		return -EINVAL;
	}
	at::Tensor c = r.contiguous();
	std::vector<int64_t> dims(c.sizes().begin(), c.sizes().end());
	if (dims.empty())
		dims.push_back(1);
	struct vaccel_torch_tensor *t = nullptr;
	int ret = vaccel_torch_tensor_new(&t, (int64_t)dims.size(),
					  dims.data(), vt);
	if (ret)
		return -ret;
	size_t bytes = c.nbytes();
	if (bytes) {
		t->data = malloc(bytes);
		if (!t->data) {
			vaccel_torch_tensor_delete(t);
			return -ENOMEM;
		}
		memcpy(t->data, c.data_ptr(), bytes);
		t->size = bytes;
		t->owned = true;
	}
	*out = t;
	return 0;
}

// The model's TorchScript: its file when it has one, else its bytes.
torch::jit::Module _load(struct vaccel_resource *model, int *err)
{
	const char *path = nullptr;
	const uint8_t *data = nullptr;
	size_t size = 0;
	if (model->nr_blobs > 0 && model->blobs && model->blobs[0]) {
		path = model->blobs[0]->path;
		data = model->blobs[0]->data;
		size = model->blobs[0]->size;
	}
	if (!path && model->nr_paths > 0 && model->paths)
		path = model->paths[0];
	torch::jit::Module m;
	if (path) {
		if (access(path, R_OK)) {
			*err = -errno;
			vaccel_error("[torch] model %lld: %s: %s",
				     (long long)model->id, path,
				     strerror(errno));
			return m;
		}
		m = torch::jit::load(path, c10::kCPU);
	} else if (data && size) {
		std::istringstream in(
			std::string(reinterpret_cast<const char *>(data), size));
		m = torch::jit::load(in, c10::kCPU);
	} else {
		vaccel_error("[torch] model %lld has no file and no bytes",
			     (long long)model->id);
		*err = -EINVAL;
		return m;
	}
	m.eval();
	*err = 0;
	return m;
}

// Operators that only pass (a view of) their tensor arguments on: what
// their results are used for is looked at in turn.
const std::unordered_set<std::string> kPassOn = {
	"aten::view", "aten::reshape", "aten::flatten", "aten::slice",
	"aten::select", "aten::narrow", "aten::squeeze", "aten::unsqueeze",
	"aten::transpose", "aten::t", "aten::permute", "aten::expand",
	"aten::expand_as", "aten::view_as", "aten::reshape_as",
	"aten::contiguous", "aten::detach", "aten::alias", "aten::to",
	"aten::type_as", "aten::dropout", "aten::unbind", "aten::split",
	"aten::chunk", "prim::ListConstruct", "prim::TupleConstruct",
	"prim::TupleIndex", "prim::TupleUnpack", "prim::ListUnpack",
	"aten::__getitem__",
};

// Operators whose memory accesses do not depend on the values they read:
// arithmetic, activations, convolutions, matrix products, pooling (which
// returns positions, never uses values as positions), normalisation and
// reductions, joins, and shape queries. Each reads its arguments into a new
// tensor. A value that changes while they run changes the result, nothing
// else. Not here, on purpose: anything that indexes by a tensor's values
// (index_select, gather, embedding, bincount, histc, scatter...), sorts
// (sort, topk, unique, kthvalue, median), sizes a result by the values
// (nonzero, masked_select, repeat_interleave), in-place operators, and
// control flow.
const std::unordered_set<std::string> kPlainRead = {
	"aten::add", "aten::sub", "aten::rsub", "aten::mul", "aten::div",
	"aten::neg", "aten::abs", "aten::relu", "aten::relu6",
	"aten::sigmoid", "aten::tanh", "aten::exp", "aten::log",
	"aten::sqrt", "aten::rsqrt", "aten::pow", "aten::clamp",
	"aten::clamp_min", "aten::clamp_max", "aten::hardtanh", "aten::gelu",
	"aten::silu", "aten::leaky_relu", "aten::elu", "aten::softplus",
	"aten::hardswish", "aten::hardsigmoid", "aten::mish",
	"aten::softmax", "aten::log_softmax", "aten::conv1d", "aten::conv2d",
	"aten::conv3d", "aten::_convolution", "aten::convolution",
	"aten::linear", "aten::matmul", "aten::mm", "aten::bmm",
	"aten::addmm", "aten::max_pool1d", "aten::max_pool2d",
	"aten::max_pool3d", "aten::avg_pool1d", "aten::avg_pool2d",
	"aten::avg_pool3d", "aten::adaptive_avg_pool1d",
	"aten::adaptive_avg_pool2d", "aten::adaptive_avg_pool3d",
	"aten::batch_norm", "aten::layer_norm", "aten::group_norm",
	"aten::instance_norm", "aten::mean", "aten::sum", "aten::amax",
	"aten::amin", "aten::var", "aten::std", "aten::cat", "aten::stack",
	"aten::size", "aten::dim", "aten::numel", "prim::shape",
};

// Whether node n, a use of a followed value, keeps the inputs safe; for a
// pass-on operator *follow is set (its outputs are followed in turn). A name
// covers every overload of an operator, so the overload is checked too: no
// operator that writes (in-place and out= overloads: relu(x, out=x) returns
// x), no plain read whose result aliases an argument or holds tensors in a
// container (the list overloads of add and mul: [x] + [x] holds x), and
// div only without a rounding mode.
bool _use_ok(torch::jit::Node *n, bool *follow)
{
	std::string k = n->kind().toQualString();
	*follow = kPassOn.count(k) != 0;
	if (!*follow && !kPlainRead.count(k))
		return false;
	if (n->kind().is_prim())
		return true; // the containers, tuple access and prim::shape
	const c10::FunctionSchema *fs = n->maybeSchema();
	if (!fs || fs->is_mutable())
		return false;
	if (*follow)
		return true;
	if (k == "aten::div" && fs->overload_name() != "Tensor" &&
	    fs->overload_name() != "Scalar")
		return false;
	for (const c10::Argument &r : fs->returns())
		if (r.alias_info())
			return false;
	for (torch::jit::Value *o : n->outputs()) {
		c10::TypeKind t = o->type()->kind();
		if (t != c10::TypeKind::TensorType &&
		    t != c10::TypeKind::IntType &&
		    t != c10::TypeKind::FloatType &&
		    t != c10::TypeKind::BoolType &&
		    t != c10::TypeKind::NumberType)
			return false;
	}
	return true;
}

// True when forward() reads its inputs only through the operators above
// (following views and containers of them), so that it may run on the
// caller's memory. Otherwise the inputs are copied first: on the agent they
// lie in a guest's shared pool, which the guest may rewrite while the model
// runs, and an operator that reads an input twice and trusts the first read
// (bincount sizes its output from max(x), then indexes it with x) would be
// steered out of bounds. Anything not understood means a copy. The graph read
// is the saved one, inlined; the profiling executor runs an optimized copy of
// it, which fuses and specializes these operators but adds none that index.
bool _plain_reads(torch::jit::Module &m)
{
	std::shared_ptr<torch::jit::Graph> g =
		m.get_method("forward").graph()->copy();
	torch::jit::Inline(*g);
	std::vector<torch::jit::Value *> work;
	for (size_t i = 1; i < g->inputs().size(); i++) // 0 is self
		work.push_back(g->inputs()[i]);
	std::unordered_set<torch::jit::Value *> seen;
	while (!work.empty()) {
		torch::jit::Value *v = work.back();
		work.pop_back();
		if (!seen.insert(v).second)
			continue;
		for (const torch::jit::Use &u : v->uses()) {
			torch::jit::Node *n = u.user;
			if (n == g->return_node())
				continue; // a result: copied out as bytes
			bool follow;
			if (!_use_ok(n, &follow))
				return false;
			if (follow)
				for (torch::jit::Value *o : n->outputs())
					work.push_back(o);
		}
	}
	return true;
}

// The cached model of (sess, model), loading it on first use.
int _module(struct vaccel_session *sess, struct vaccel_resource *model,
	    Model *out)
{
	auto key = std::make_pair((int64_t)sess->id, (int64_t)model->id);
	{
		std::lock_guard<std::mutex> g(cache_lock);
		auto it = cache.find(key);
		if (it != cache.end()) {
			*out = it->second;
			return 0;
		}
	}
	int err = 0;
	Model m;
	m.m = _load(model, &err); // slow: outside the lock
	if (err)
		return err;
	m.in_place = _plain_reads(m.m);
	vaccel_debug("[torch] session:%lld loaded model %lld; its inputs are "
		     "%s",
		     (long long)sess->id, (long long)model->id,
		     m.in_place ? "read in place" : "copied before each run");
	std::lock_guard<std::mutex> g(cache_lock);
	*out = cache.emplace(key, std::move(m)).first->second;
	return 0;
}

// The result of forward() as a list of tensors: a tensor, or a tuple or
// list of tensors.
int _results(const c10::IValue &v, std::vector<at::Tensor> *out)
{
	if (v.isTensor()) {
		out->push_back(v.toTensor());
		return 0;
	}
	std::vector<c10::IValue> items;
	if (v.isTuple())
		items = v.toTupleRef().elements().vec();
	else if (v.isList())
		items = v.toListRef().vec();
	else {
		vaccel_error("[torch] forward returned a %s, not tensors",
			     v.tagKind().c_str());
		return -EINVAL;
	}
	for (const auto &item : items) {
		if (!item.isTensor()) {
			vaccel_error("[torch] forward returned a %s among its "
				     "results, not a tensor",
				     item.tagKind().c_str());
			return -EINVAL;
		}
		out->push_back(item.toTensor());
	}
	return 0;
}

void _delete_all(struct vaccel_torch_tensor **outputs, int n)
{
	for (int i = 0; i < n; i++) {
		if (outputs[i])
			vaccel_torch_tensor_delete(outputs[i]);
		outputs[i] = nullptr;
	}
}

} // namespace

extern "C" int ltorch_set_threads(int n)
{
	if (n < 1)
		return -EINVAL;
	return _guard("set_num_threads", -EINVAL, [&] {
		at::set_num_threads(n);
		return 0;
	});
}

extern "C" void ltorch_steady_allocator(size_t arena_bytes)
{
	static std::once_flag once;
	{
		std::lock_guard<std::mutex> g(steady_lock);
		arena.limit = arena_bytes;
		_arena_trim();
	}
	// Above libtorch's own (priority 0); the plugin is never unloaded
	// (RTLD_NODELETE), so the deleter of a tensor that outlives it stays.
	std::call_once(once, [] { c10::SetCPUAllocator(&steady, 1); });
}

extern "C" void ltorch_steady_stats(size_t *reserved, size_t *used)
{
	std::lock_guard<std::mutex> g(steady_lock);
	*reserved = arena.reserved;
	*used = arena.used;
}

extern "C" int ltorch_threads(void)
{
	return _guard("get_num_threads", -EINVAL,
		      [] { return at::get_num_threads(); });
}

extern "C" int ltorch_model_load(struct vaccel_session *sess,
				 struct vaccel_resource *model)
{
	return _guard("model load", -EINVAL, [&] {
		Owner own((int64_t)sess->id);
		Model m;
		return _module(sess, model, &m);
	});
}

extern "C" int ltorch_model_in_place(struct vaccel_session *sess,
				     struct vaccel_resource *model)
{
	return _guard("model load", -EINVAL, [&] {
		Owner own((int64_t)sess->id);
		Model m;
		int r = _module(sess, model, &m);
		return r ? r : (int)m.in_place;
	});
}

extern "C" int ltorch_model_run(struct vaccel_session *sess,
				struct vaccel_resource *model,
				struct vaccel_torch_tensor *const *inputs,
				int nr_inputs,
				struct vaccel_torch_tensor **outputs,
				int nr_outputs)
{
	if (nr_inputs < 0 || nr_outputs < 0 || (nr_inputs && !inputs) ||
	    (nr_outputs && !outputs)) {
		vaccel_error("[torch] model run: bad tensor arrays (%d in, "
			     "%d out)",
			     nr_inputs, nr_outputs);
		return -EINVAL;
	}
	for (int i = 0; i < nr_outputs; i++)
		outputs[i] = nullptr;
	int ret = _guard("model run", -EINVAL, [&] {
		Owner own((int64_t)sess->id);
		Model m;
		int r = _module(sess, model, &m);
		if (r)
			return r;
		std::vector<c10::IValue> args;
		for (int i = 0; i < nr_inputs; i++) {
			at::Tensor t;
			r = _wrap(inputs[i], i, &t, !m.in_place);
			if (r)
				return r;
			args.emplace_back(std::move(t));
		}
		std::vector<at::Tensor> results;
		{
			c10::InferenceMode guard;
			r = _results(m.m.forward(std::move(args)), &results);
		}
		if (r)
			return r;
		if ((int64_t)results.size() < nr_outputs) {
			vaccel_error("[torch] model %lld returned %zu tensors, "
				     "%d asked for",
				     (long long)model->id, results.size(),
				     nr_outputs);
			return -EINVAL;
		}
		for (int i = 0; i < nr_outputs; i++) {
			r = _unwrap(results[i], i, &outputs[i]);
			if (r)
				return r;
		}
		return 0;
	});
	if (ret)
		_delete_all(outputs, nr_outputs);
	return ret;
}

extern "C" int ltorch_sgemm(const struct vaccel_torch_tensor *a,
			    const struct vaccel_torch_tensor *b,
			    const struct vaccel_torch_tensor *c, int m, int n,
			    int k, struct vaccel_torch_tensor **out)
{
	if (!out || m < 0 || n < 0 || k < 0) {
		vaccel_error("[torch] sgemm: bad arguments m %d n %d k %d", m,
			     n, k);
		return -EINVAL;
	}
	*out = nullptr;
	return _guard("sgemm", -EINVAL, [&] {
		const struct vaccel_torch_tensor *in[3] = { a, b, c };
		const int64_t rows[3] = { m, k, m }, cols[3] = { k, n, n };
		at::Tensor t[3];
		for (int i = 0; i < 3; i++) {
			int r = _wrap(in[i], i, &t[i], false);
			if (r)
				return r;
			if (t[i].scalar_type() != at::kFloat ||
			    t[i].numel() != rows[i] * cols[i]) {
				vaccel_error("[torch] sgemm: operand %d is not "
					     "%lld x %lld floats",
					     i, (long long)rows[i],
					     (long long)cols[i]);
				return -EINVAL;
			}
			t[i] = t[i].view({ rows[i], cols[i] });
		}
		c10::InferenceMode guard;
		return _unwrap(at::addmm(t[2], t[0], t[1]), 0, out);
	});
}

extern "C" int ltorch_top1(struct vaccel_session *sess,
			   struct vaccel_resource *model, const float *chw,
			   int64_t ch, int64_t h, int64_t w, int64_t *top1)
{
	return _guard("classify", -EINVAL, [&] {
		Owner own((int64_t)sess->id);
		Model m;
		int r = _module(sess, model, &m);
		if (r)
			return r;
		at::Tensor x = torch::from_blob(const_cast<float *>(chw),
						{ 1, ch, h, w }, at::kFloat);
		c10::InferenceMode guard;
		at::Tensor y = m.m.forward({ x }).toTensor();
		if (y.numel() < 1) {
			vaccel_error("[torch] classify: the model returned "
				     "an empty tensor");
			return -EINVAL;
		}
		*top1 = y.flatten().argmax().item<int64_t>();
		return 0;
	});
}

extern "C" void ltorch_forget(int64_t sess_id, int64_t res_id)
{
	// Modules are destroyed after the lock is dropped (their destructors
	// may take a while and never need the cache).
	std::vector<Model> dead;
	_guard("forget", -EINVAL, [&] {
		std::lock_guard<std::mutex> g(cache_lock);
		for (auto it = cache.begin(); it != cache.end();) {
			bool match = sess_id < 0 ||
				     (it->first.first == sess_id &&
				      (res_id < 0 || it->first.second == res_id));
			if (match) {
				dead.push_back(std::move(it->second));
				it = cache.erase(it);
			} else {
				++it;
			}
		}
		return 0;
	});
}
