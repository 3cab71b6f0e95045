// SPDX-License-Identifier: Apache-2.0
// Test fixture: a shared object that is not a vAccel plugin (no
// `vaccel_plugin` symbol).
int rt_fixture_not_a_plugin(void)
{
	return 42;
}
