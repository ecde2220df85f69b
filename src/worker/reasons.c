/* SPDX-License-Identifier: BSD-2-Clause */
#include "reasons.h"

static const char *const names[RW_DROP_MAX] = {
	[RW_PASS] = "pass",
#define RW_X_NAME(id, name, text) [RW_DROP_##id] = name,
	RW_DROP_REASONS(RW_X_NAME)
#undef RW_X_NAME
};

static const char *const texts[RW_DROP_MAX] = {
	[RW_PASS] = "forwarded",
#define RW_X_TEXT(id, name, text) [RW_DROP_##id] = text,
	RW_DROP_REASONS(RW_X_TEXT)
#undef RW_X_TEXT
};

const char *rw_reason_name(unsigned reason)
{
	return reason < RW_DROP_MAX ? names[reason] : "unknown";
}

const char *rw_reason_text(unsigned reason)
{
	return reason < RW_DROP_MAX ? texts[reason] : "unknown reason";
}
