variable "name" {
  type        = string
  description = "Name of the Kubernetes objects (a DNS label)."
}

variable "namespace" {
  type        = string
  description = "Namespace of the Kubernetes objects; null: the provider's default namespace."
  default     = null
}

variable "image" {
  type        = string
  description = "Container image."
  default     = "mysql:8.4.3"
}

variable "storage_size" {
  type        = string
  description = "Size of the data volume."
  default     = "1Gi"
}

variable "storage_class" {
  type        = string
  description = "Storage class of the data volume; null: the cluster's default."
  default     = null
}

variable "database" {
  type        = string
  description = "Name of the database created on first start."
  default     = "app"
}

variable "username" {
  type        = string
  description = "Name of the user created on first start (all privileges on the database)."
  default     = "app"
}
