/* Models as the other layers check them. Internal. */
#ifndef DAL_MODEL_INTERNAL_H
#define DAL_MODEL_INTERNAL_H

#include "dal/model.h"

/* Each of `n` models valid (dal_model_validate); `models` NULL only with n 0. */
int dal__models_validate(const dal_model *const *models, size_t n);

#endif
