/**
 * @file dal/dal.h
 * @brief Everything public in dal.
 */
#ifndef DAL_DAL_H
#define DAL_DAL_H

#include "dal/common.h"
#include "dal/version.h"
#include "dal/errors.h"
#include "dal/log.h"
#include "dal/value.h"
#include "dal/model.h"
#include "dal/row.h"
#include "dal/config.h"
#include "dal/result.h"
#include "dal/db.h"
#include "dal/criteria.h"
#include "dal/rows.h"
#include "dal/schema.h"
#include "dal/migrate.h"
#include "dal/repo.h"
#include "dal/uow.h"
#include "dal/audit.h"
#include "dal/metrics.h"
#include "dal/health.h"
#include "dal/auto.h"

#endif
